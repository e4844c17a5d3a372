"""Telegram's HTML parse mode: the one implementation, used by the message check and the sandbox.

``parse_html`` is a port of tdlib's ``parse_html``, so what it accepts, the text and entities it
returns and its errors (Telegram's wording, byte offsets) match Telegram's. It works on the UTF-8
bytes because Telegram reports positions as byte offsets, while entity offsets and lengths are in
UTF-16 code units, as in the Bot API.

On top of it, for kentongan: ``validate_html`` (why Telegram would refuse a text, in Bahasa
Indonesia), ``visible_text``/``telegram_length`` (what the reader sees and what Telegram counts
against its limits) and ``escape``. The one place this is stricter than Telegram is a bare ``&``
(or ``&nbsp;``): Telegram shows it literally, and it is almost always a missing ``escape``.

Imports nothing but the standard library: the local Bot API server (``sandbox``) imports it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip

_SIMPLE = {
    "i": "italic",
    "em": "italic",
    "b": "bold",
    "strong": "bold",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
}
_SPACES = frozenset(b" \t\r\n\0\v")
_SPECIAL = re.compile(rb"[<&]")
_SIMPLE_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z-]*)>")
_NAMED = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}


class HtmlParseError(ValueError):
    """Telegram's reason (``str()``), to be prefixed with "Bad Request: can't parse entities: ".

    ``kind``, ``offset`` (in bytes), ``tag`` and ``found`` let ``validate_html`` say the same
    in Bahasa Indonesia.
    """

    def __init__(
        self,
        reason: str,
        *,
        kind: str,
        offset: int | None = None,
        tag: str = "",
        found: str = "",
    ) -> None:
        super().__init__(reason)
        self.kind, self.offset, self.tag, self.found = kind, offset, tag, found


@dataclass(slots=True)
class _Open:
    tag: str
    argument: str
    utf16_offset: int
    text_len: int  # length of the output text when the tag opened, for <a> without href


def _decode_entity(b: bytes, pos: int) -> tuple[str, int] | None:
    """Decode ``&...;`` at ``pos``; None when it is no entity Telegram knows (kept as is)."""
    n = len(b)
    end = pos + 1
    if end < n and b[end] == ord("#"):
        end += 1
        value = 0
        if end < n and b[end] == ord("x"):
            end += 1
            while end < n and chr(b[end]) in "0123456789abcdefABCDEF":
                value = value * 16 + int(chr(b[end]), 16)
                end += 1
        else:
            while end < n and 48 <= b[end] <= 57:
                value = value * 10 + b[end] - 48
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        if 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < n and chr(b[end]).isascii() and chr(b[end]).isalpha():
            end += 1
        name = b[pos + 1 : end]
        if name not in _NAMED:
            return None
        char = _NAMED[name]
    if end < n and b[end] == ord(";"):
        end += 1
    return char, end


def parse_html(source: str, *, strict_ampersand: bool = False) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(text, entities)`` like Telegram, or raise HtmlParseError with its wording.

    ``strict_ampersand`` rejects a bare ``&`` (or an entity Telegram doesn't know, like ``&nbsp;``)
    that Telegram would show literally: that is almost always a missing ``html.escape``.
    """
    b = source.encode("utf-8")
    n = len(b)

    def at(k: int) -> int:
        return b[k] if k < n else 0  # tdlib reads the C string's terminating NUL

    out: list[str] = []
    pending = bytearray()  # raw UTF-8 run not yet decoded into ``out``
    utf16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []

    def flush() -> None:
        if pending:
            out.append(pending.decode("utf-8"))
            pending.clear()

    i = 0
    while i < n:
        # Plain text up to the next '<' or '&' is copied in one go: both are ASCII, so the
        # chunk ends on a character boundary.
        special = _SPECIAL.search(b, i)
        stop = special.start() if special else n
        if stop > i:
            chunk = b[i:stop]
            pending += chunk
            utf16 += len(chunk) if chunk.isascii() else utf16_length(chunk.decode("utf-8"))
            i = stop
            continue
        c = b[i]
        if c == ord("&"):
            decoded = _decode_entity(b, i)
            if decoded is not None:
                char, i = decoded
                flush()
                out.append(char)
                utf16 += utf16_length(char)
                continue
            if strict_ampersand:
                raise HtmlParseError(
                    f'Unescaped "&" at byte offset {i} (sandbox strict mode; write &amp;)',
                    kind="ampersand",
                    offset=i,
                )
        if c != ord("<"):  # a '&' kept literally, as Telegram does
            utf16 += 1
            pending.append(c)
            i += 1
            continue

        # Fast path for the usual attribute-less tags; anything else takes tdlib's long way,
        # which also words the errors.
        simple = _SIMPLE_TAG.match(b, i)
        if simple:
            name = simple.group(2).decode("ascii").lower()
            if not simple.group(1) and name in SUPPORTED_TAGS and name != "span":
                flush()
                text_len = sum(len(s) for s in out) if name == "a" else 0
                stack.append(_Open(name, "", utf16, text_len))
                i = simple.end()
                continue
            if simple.group(1) and stack and stack[-1].tag == name:
                i = simple.end()
                opened = stack.pop()
                if utf16 > opened.utf16_offset:
                    flush()
                    _close(opened, utf16, out, entities)
                continue

        begin = i
        i += 1
        if at(i) != ord("/"):
            while at(i) not in _SPACES and at(i) != ord(">"):
                i += 1
            if at(i) == 0:
                raise HtmlParseError(
                    f"Unclosed start tag at byte offset {begin}", kind="unclosed", offset=begin
                )
            tag = b[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in SUPPORTED_TAGS:
                raise HtmlParseError(
                    f'Unsupported start tag "{tag}" at byte offset {begin}',
                    kind="unsupported",
                    offset=begin,
                    tag=tag,
                )
            argument = ""
            while at(i) != ord(">"):
                while at(i) != 0 and at(i) in _SPACES:
                    i += 1
                if at(i) == ord(">"):
                    break
                attr_begin = i
                while at(i) not in _SPACES and at(i) not in b"=>/\"'":
                    i += 1
                attr = b[attr_begin:i].decode("utf-8", "replace")
                if not attr:
                    raise HtmlParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}',
                        kind="empty_attribute",
                        offset=begin,
                        tag=tag,
                    )
                while at(i) != 0 and at(i) in _SPACES:
                    i += 1
                if at(i) != ord("="):
                    if at(i) == 0:
                        raise HtmlParseError(
                            f'Unclosed start tag "{tag}" at byte offset {begin}',
                            kind="unclosed",
                            offset=begin,
                        )
                    if tag == "blockquote" and attr == "expandable":
                        argument = "1"
                    continue
                i += 1
                while at(i) != 0 and at(i) in _SPACES:
                    i += 1
                if at(i) == 0:
                    raise HtmlParseError(
                        f'Unclosed start tag "{tag}" at byte offset {begin}',
                        kind="unclosed",
                        offset=begin,
                    )
                if at(i) not in (ord("'"), ord('"')):
                    token_begin = i
                    while (at(i) < 128 and chr(at(i)).isalnum()) or at(i) in b".-":
                        i += 1
                    value = b[token_begin:i].decode("ascii").lower()
                    if at(i) not in _SPACES and at(i) != ord(">"):
                        raise HtmlParseError(
                            f"Unexpected end of name token at byte offset {token_begin}",
                            kind="unquoted",
                            offset=token_begin,
                            tag=tag,
                        )
                else:
                    quote = at(i)
                    i += 1
                    chunks: list[str] = []
                    raw = bytearray()
                    while at(i) != quote and at(i) != 0:
                        if at(i) == ord("&"):
                            decoded = _decode_entity(b, i)
                            if decoded is not None:
                                chunks.append(raw.decode("utf-8", "replace"))
                                raw.clear()
                                chunks.append(decoded[0])
                                i = decoded[1]
                                continue
                        raw.append(at(i))
                        i += 1
                    chunks.append(raw.decode("utf-8", "replace"))
                    if at(i) == quote:
                        i += 1
                    value = "".join(chunks)
                if at(i) == 0:
                    raise HtmlParseError(
                        f"Unclosed start tag at byte offset {begin}", kind="unclosed", offset=begin
                    )
                if tag == "a" and attr == "href":
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attr == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin}',
                    kind="span",
                    offset=begin,
                    tag=tag,
                )
            flush()
            text_len = sum(len(s) for s in out) if tag == "a" else 0
            stack.append(_Open(tag, argument, utf16, text_len))
            i += 1  # skip '>'
            continue

        # an end tag
        if not stack:
            raise HtmlParseError(
                f"Unexpected end tag at byte offset {begin}", kind="unopened", offset=begin
            )
        while at(i) not in _SPACES and at(i) != ord(">"):
            i += 1
        end_tag = b[begin + 2 : i].decode("utf-8", "replace").lower()
        while at(i) != 0 and at(i) in _SPACES:
            i += 1
        if at(i) != ord(">"):
            raise HtmlParseError(
                f"Unclosed end tag at byte offset {begin}", kind="unclosed", offset=begin
            )
        i += 1
        opened = stack.pop()
        if end_tag and end_tag != opened.tag:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{opened.tag}>", '
                f'found "</{end_tag}>"',
                kind="unmatched",
                offset=begin,
                tag=opened.tag,
                found=end_tag,
            )
        if utf16 > opened.utf16_offset:
            flush()
            _close(opened, utf16, out, entities)

    if stack:
        raise HtmlParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"',
            kind="not_closed",
            tag=stack[-1].tag,
        )
    flush()
    for e in entities:
        if e["type"] == "code":
            e.pop("language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close(opened: _Open, utf16: int, out: list[str], entities: list[dict[str, Any]]) -> None:
    offset, length = opened.utf16_offset, utf16 - opened.utf16_offset
    tag = opened.tag
    if tag in _SIMPLE:
        entities.append({"type": _SIMPLE[tag], "offset": offset, "length": length})
    elif tag == "span":
        entities.append({"type": "spoiler", "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not opened.argument.isdigit() or int(opened.argument) == 0:
            raise HtmlParseError(
                "Invalid custom emoji identifier specified", kind="emoji", tag="tg-emoji"
            )
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": opened.argument,
            }
        )
    elif tag == "a":
        url = opened.argument or "".join(out)[opened.text_len :]
        if url:
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": url})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last
            and last["type"] == "code"
            and (last["offset"], last["length"]) == (offset, length)
            and last.get("language")
        ):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last
            and last["type"] == "pre"
            and (last["offset"], last["length"]) == (offset, length)
            and opened.argument
        ):
            last["language"] = opened.argument
        else:
            entity: dict[str, Any] = {"type": "code", "offset": offset, "length": length}
            if opened.argument:
                entity["language"] = opened.argument
            entities.append(entity)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if opened.argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


def validate_html(text: str) -> list[str]:
    """Why Telegram would refuse this text in HTML parse mode, in Bahasa Indonesia; empty when
    fine. Telegram stops at the first problem, and so does this."""
    try:
        parse_html(text, strict_ampersand=True)
    except HtmlParseError as exc:
        return [_reason(exc, text)]
    return []


_TAG_NAME = re.compile(r"[a-z][a-z0-9-]*")
_END_TAG = re.compile(r"</([^\s>]*)")
_ENTITY_NAME = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


def _reason(exc: HtmlParseError, text: str) -> str:
    at = ""
    if exc.offset is not None:
        start = len(text.encode("utf-8")[: exc.offset].decode("utf-8", "ignore"))
        at = text[start : start + 20]
    near = f" (dekat {at!r})" if at else ""
    if exc.kind == "ampersand":
        entity = _ENTITY_NAME.match(at)
        if entity:
            return (
                f"entitas {entity.group(0)} tidak dikenal Telegram (hanya &lt; &gt; &amp; &quot;)"
            )
        return f"karakter & tidak di-escape (tulis &amp;){near}"
    if exc.kind == "unsupported":
        if _TAG_NAME.fullmatch(exc.tag):
            return f"tag <{exc.tag}> tidak didukung Telegram"
        if exc.tag.endswith("/") and _TAG_NAME.fullmatch(exc.tag[:-1]):
            return f"tag <{exc.tag}> tidak boleh ditutup sendiri"
        return f"karakter < tidak di-escape (tulis &lt;){near}"
    if exc.kind == "unopened":
        end = _END_TAG.match(at)
        name = end.group(1) if end else ""
        return f"tag </{name}> ditutup tanpa pernah dibuka"
    if exc.kind == "unmatched":
        return f"tag <{exc.tag}> harus ditutup sebelum </{exc.found}>"
    if exc.kind == "not_closed":
        return f"tag <{exc.tag}> tidak ditutup"
    if exc.kind == "unclosed":
        return f"tag tidak diakhiri > atau karakter < tidak di-escape (tulis &lt;){near}"
    if exc.kind == "unquoted":
        return f"nilai atribut pada <{exc.tag}> harus diapit tanda kutip{near}"
    if exc.kind == "empty_attribute":
        return f"atribut tanpa nama pada <{exc.tag}>{near}"
    if exc.kind == "span":
        return 'tag <span> hanya boleh dengan class="tg-spoiler"'
    if exc.kind == "emoji":
        return "emoji-id pada <tg-emoji> harus berupa angka"
    return str(exc)  # pragma: no cover - every kind raised above is worded


def visible_text(text: str) -> str:
    """What the reader sees: Telegram's text after parsing (tags removed, entities decoded).

    Raises ``HtmlParseError`` (a ``ValueError``) for text Telegram would refuse.
    """
    return parse_html(text)[0]


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the way Telegram counts (an emoji is often 2)."""
    return len(text.encode("utf-16-le")) // 2


def telegram_length(text: str, *, html_mode: bool = True) -> int:
    """The length Telegram checks against its 4096 limit: after entity parsing, in UTF-16."""
    return utf16_length(visible_text(text) if html_mode else text)


def escape(value: str) -> str:
    """Escape a value for Telegram HTML (``&``, ``<``, ``>``, ``"``; apostrophes stay)."""
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
