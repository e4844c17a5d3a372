"""Entities Telegram finds by itself in what users type: bot commands, mentions, links, hashtags.

The bot-command pattern follows tdlib: ``/cmd`` or ``/cmd@botname`` not glued to a word, a slash
or an angle bracket on either side.
"""

from __future__ import annotations

import re
from typing import Any

_COMMAND = re.compile(r"(?<![\w/<>])/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?(?![\w/<>])")
_MENTION = re.compile(r"(?<!\w)@[a-zA-Z0-9_]{2,32}(?!\w)")
_HASHTAG = re.compile(r"(?<!\w)#\w*[^\W\d_]\w*")
_URL = re.compile(r"(?<![\w@])https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")


def _utf16_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


def _entity(kind: str, text: str, start: int, end: int) -> dict[str, Any]:
    offset = _utf16_offset(text, start)
    return {"type": kind, "offset": offset, "length": _utf16_offset(text, end) - offset}


def find_entities(text: str) -> list[dict[str, Any]]:
    """Entities for a message text a user typed, sorted by offset as Telegram sends them."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in (
        ("url", _URL),
        ("bot_command", _COMMAND),
        ("mention", _MENTION),
        ("hashtag", _HASHTAG),
    ):
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append((m.start(), m.end(), kind))
    found.sort()
    return [_entity(kind, text, start, end) for start, end, kind in found]


def command_of(text: str, entities: list[dict[str, Any]] | None) -> tuple[str, str | None] | None:
    """``(command, @bot or None)`` when the text starts with a bot command, else None."""
    for e in entities or ():
        if e["type"] == "bot_command" and e["offset"] == 0:
            raw = text[: e["length"]]
            name, _, bot = raw[1:].partition("@")
            return name, bot or None
    return None
