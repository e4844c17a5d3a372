"""Fill a message's placeholders from the election profile, escaping every value."""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from messages.context import build_context
from messages.library import Library, Message, TextFormat, default_library
from messages.telegram_html import escape

if TYPE_CHECKING:
    from election.profile import ElectionProfile


class RenderError(Exception):
    """A message cannot be rendered: bad placeholder syntax or a value nobody provides."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


class Safe(str):
    """A value the caller vouches is already valid Telegram HTML: inserted without escaping."""

    __slots__ = ()


def placeholders(text: str, *, key: str = "?") -> list[str]:
    """The placeholder names in ``text``, in order; RenderError on anything but ``{name}``."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise RenderError(
            key, f"kurung kurawal tidak seimbang ({exc}); tulis {{{{ atau }}}}"
        ) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            shown = (
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            raise RenderError(key, f"placeholder {shown} tidak sah: tulis {{nama}} saja")
        names.append(name)
    return names


def render(
    message_or_key: Message | str,
    profile: ElectionProfile,
    now: datetime | None = None,
    extra: Mapping[str, object] | None = None,
    *,
    library: Library | None = None,
) -> str:
    """The message's text with every ``{placeholder}`` filled and HTML-escaped.

    ``now`` (timezone-aware; default: the system clock) drives ``{relative_day}`` and
    ``{today}``. ``extra`` adds or overrides values (escaped too, unless wrapped in ``Safe``).
    A key is looked up in ``library`` (default: the shipped library). Raises RenderError
    when a placeholder has no value, UnknownMessageError for an unknown key.
    """
    message = (
        message_or_key
        if isinstance(message_or_key, Message)
        else (library or default_library()).get(message_or_key)
    )
    when = now if now is not None else datetime.now(UTC)
    values: dict[str, object] = dict(build_context(profile, when))
    if extra:
        values.update(extra)
    html_mode = message.format is TextFormat.HTML
    filled: dict[str, str] = {}
    for name in placeholders(message.text, key=message.key):
        if name not in values:
            hint = " (parameter pesan: isi lewat extra)" if name in message.params else ""
            raise RenderError(message.key, f"placeholder {{{name}}} tidak dikenal{hint}")
        value = values[name]
        text = str(value)
        filled[name] = text if (not html_mode or isinstance(value, Safe)) else escape(text)
    return message.text.format_map(filled)
