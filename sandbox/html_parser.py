"""Telegram's HTML parse mode, as the server applies it: kentongan's one implementation.

The port of tdlib's parser lives in ``messages/telegram_html.py`` (standard library only) so the
message check and this server cannot disagree; this module is the sandbox's single door to it
(the one exception in the "stands alone" import contract in pyproject.toml).
"""

from __future__ import annotations

from messages.telegram_html import SUPPORTED_TAGS, HtmlParseError, parse_html
from messages.telegram_html import utf16_length as utf16_len

__all__ = ["SUPPORTED_TAGS", "HtmlParseError", "parse_html", "utf16_len"]
