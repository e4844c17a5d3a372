"""Message text as Telegram stores it: parse mode applied, whitespace trimmed, length checked."""

from __future__ import annotations

from typing import Any

from .errors import MESSAGE_TEXT_EMPTY, MESSAGE_TOO_LONG, bad_request
from .html_parser import HtmlParseError, parse_html, utf16_len

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_TRIM = " \n"


def format_text(
    text: str,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None,
    *,
    caption: bool = False,
    strict: bool = True,
) -> tuple[str, list[dict[str, Any]] | None]:
    """``(text, entities)`` as the message will hold them, or Telegram's 400."""
    mode = (parse_mode or "").lower()
    if entities is None and mode:
        if mode == "html":
            try:
                text, entities = parse_html(text, strict_ampersand=strict)
            except HtmlParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif mode not in ("markdown", "markdownv2"):
            raise bad_request("unsupported parse_mode")
        # Markdown modes are accepted and stored as sent, unparsed: the bot writes HTML, and a
        # half-right Markdown parser would pass or refuse texts unlike Telegram.
    text, entities = _trim(text, entities or [])
    if not text:
        if caption:
            return "", None
        raise bad_request(MESSAGE_TEXT_EMPTY)
    if utf16_len(text) > (CAPTION_LIMIT if caption else TEXT_LIMIT):
        raise bad_request("message caption is too long" if caption else MESSAGE_TOO_LONG)
    return text, entities or None


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    stripped = text.lstrip(_TRIM)
    shift = len(text) - len(stripped)  # trimmed characters are ASCII: one UTF-16 unit each
    text = stripped.rstrip(_TRIM)
    size = utf16_len(text)
    out = []
    for e in entities:
        start = max(0, e["offset"] - shift)
        end = min(size, e["offset"] + e["length"] - shift)
        if end > start:
            out.append({**e, "offset": start, "length": end - start})
    return text, out
