"""Domain refusals that carry an Indonesian text from the message library.

``str(error)`` is the plain text a person reads (handlers escape it for HTML); ``key`` and
``params`` say which library message it is, for tests and for handlers that render it
themselves. Library messages used here are ``format = "plain"`` and use only their ``params``.
"""

from __future__ import annotations

from typing import Any

from messages.library import default_library


def library_text(key: str, **params: Any) -> str:
    """A plain library message with its params filled (values as given, never as HTML)."""
    message = default_library().get(key)
    missing = set(message.params) - set(params)
    if missing:
        raise KeyError(f"{key}: params {sorted(missing)} not given")
    return message.text.format_map({k: str(v) for k, v in params.items()})


class LibraryError(Exception):
    """Mixin: an exception whose message is a library text."""

    key: str = ""
    params: dict[str, Any]

    @classmethod
    def of(cls, key: str, **params: Any) -> Any:
        error = cls(library_text(key, **params))
        error.key = key
        error.params = params
        return error


class PermissionDenied(LibraryError):
    """The message says, in Bahasa Indonesia, why and what to do instead.

    Built from a library message with ``PermissionDenied.of(key, **params)``; a plain string
    still works for older callers."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.params = {}
