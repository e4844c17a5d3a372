"""Python 3.13's ResourceWarning for an sqlite3 connection never closed, on any Python.

3.13 warns when a ``sqlite3.Connection`` is garbage-collected unclosed, and the suite's
``filterwarnings = ["error"]`` turns that into a failure. Machines here may have only 3.11;
``pytest -p tests.unclosed_sqlite tests/…`` makes every connection (aiosqlite's too, which
calls ``sqlite3.connect``) warn the same way, so a leak shows up before 3.13 does.
"""

from __future__ import annotations

import sqlite3
import warnings
from typing import Any

_connect = sqlite3.connect


class TrackedConnection(sqlite3.Connection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._closed_by_owner = False

    def close(self) -> None:
        self._closed_by_owner = True
        super().close()

    def __del__(self) -> None:
        if not getattr(self, "_closed_by_owner", True):
            warnings.warn(
                f"unclosed database in {self!r}", ResourceWarning, stacklevel=1, source=self
            )


def _tracked_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    kwargs.setdefault("factory", TrackedConnection)
    return _connect(*args, **kwargs)


sqlite3.connect = _tracked_connect  # type: ignore[assignment]
