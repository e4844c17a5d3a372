"""Telegram's HTML parse mode, checked strictly, and the length Telegram counts.

Telegram accepts only a handful of tags (https://core.telegram.org/bots/api#html-style):
``b strong i em u ins s strike del span.tg-spoiler tg-spoiler a[href] code pre blockquote``.
Every ``<``, ``>`` and ``&`` that is not part of a tag or an entity must be escaped; the only
named entities are ``&lt; &gt; &amp; &quot;``, numeric ones (``&#8211;``, ``&#x2013;``) are fine.

``validate_html`` is stricter than Telegram where Telegram is lenient in surprising ways
(a bare ``>``, unknown attributes): the library's text must be unambiguous.
"""

from __future__ import annotations

import html
import re

ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
    }
)
_NAMED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})
_HREF_SCHEMES = ("http://", "https://", "tg://", "mailto:")

_TAG = re.compile(
    r"<(?P<close>/)?(?P<name>[A-Za-z][A-Za-z0-9-]*)(?P<attrs>(?:\s+[^<>]*?)?)\s*(?P<self>/)?>"
)
_ATTR = re.compile(r"""\s*(?P<name>[A-Za-z-]+)(?:\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'))?""")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]*);")
_ANY_TAG = re.compile(r"<[^<>]*>")


def _parse_attrs(raw: str) -> tuple[dict[str, str | None], str | None]:
    """Attributes of a tag, or an error when they are not ``name="value"`` pairs."""
    attrs: dict[str, str | None] = {}
    pos = 0
    raw = raw.rstrip()
    while pos < len(raw):
        m = _ATTR.match(raw, pos)
        if not m or m.end() == pos:
            return attrs, f"atribut tidak terbaca: {raw.strip()!r}"
        value = m.group("dq") if m.group("dq") is not None else m.group("sq")
        attrs[m.group("name").lower()] = value
        pos = m.end()
    return attrs, None


def _check_attrs(name: str, attrs: dict[str, str | None], parent: str | None) -> str | None:
    allowed: set[str] = set()
    if name == "a":
        href = attrs.get("href")
        if not href:
            return "tag <a> wajib punya href"
        if not _entities_ok(href):
            return f"href berisi & yang tidak di-escape: {href!r}"
        if not html.unescape(href).lower().startswith(_HREF_SCHEMES):
            return f"href harus diawali http://, https://, tg:// atau mailto: ({href!r})"
        allowed = {"href"}
    elif name == "span":
        if attrs.get("class") != "tg-spoiler":
            return 'tag <span> hanya boleh dengan class="tg-spoiler"'
        allowed = {"class"}
    elif name == "code":
        cls = attrs.get("class")
        if cls is not None and not (parent == "pre" and cls.startswith("language-")):
            return 'class pada <code> hanya boleh "language-…" di dalam <pre>'
        allowed = {"class"}
    elif name == "blockquote":
        allowed = {"expandable"}
        if "expandable" in attrs and attrs["expandable"] is not None:
            return "atribut expandable pada <blockquote> tidak bernilai"
    extra = sorted(set(attrs) - allowed)
    if extra:
        return f"atribut tidak dikenal Telegram pada <{name}>: {', '.join(extra)}"
    return None


def _entities_ok(text: str) -> bool:
    for m in re.finditer(r"&", text):
        ent = _ENTITY.match(text, m.start())
        if not ent:
            return False
        body = ent.group(0)[1:-1]
        if not body.startswith("#") and body not in _NAMED_ENTITIES:
            return False
    return True


def _text_problems(chunk: str) -> list[str]:
    problems: list[str] = []
    if "<" in chunk:
        snippet = chunk[chunk.index("<") : chunk.index("<") + 20]
        problems.append(f"karakter < tidak di-escape (tulis &lt;): {snippet!r}")
    if ">" in chunk:
        problems.append("karakter > tidak di-escape (tulis &gt;)")
    for m in re.finditer(r"&", chunk):
        ent = _ENTITY.match(chunk, m.start())
        snippet = chunk[m.start() : m.start() + 12]
        if not ent:
            problems.append(f"karakter & tidak di-escape (tulis &amp;): {snippet!r}")
            continue
        body = ent.group(0)[1:-1]
        if not body.startswith("#") and body not in _NAMED_ENTITIES:
            problems.append(
                f"entitas {ent.group(0)} tidak dikenal Telegram (hanya &lt; &gt; &amp; &quot;)"
            )
    return problems


def validate_html(text: str) -> list[str]:
    """Why Telegram would refuse (or misread) this text in HTML parse mode; empty when fine."""
    problems: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _TAG.finditer(text):
        problems.extend(_text_problems(text[pos : m.start()]))
        pos = m.end()
        name = m.group("name").lower()
        if name not in ALLOWED_TAGS:
            problems.append(f"tag <{name}> tidak didukung Telegram")
            continue
        if m.group("self"):
            problems.append(f"tag <{name}/> tidak boleh ditutup sendiri")
            continue
        if m.group("close"):
            if m.group("attrs").strip():
                problems.append(f"tag penutup </{name}> tidak boleh beratribut")
            if not stack:
                problems.append(f"tag </{name}> ditutup tanpa pernah dibuka")
            elif stack[-1] != name:
                problems.append(f"tag <{stack[-1]}> harus ditutup sebelum </{name}>")
                if name in stack:
                    while stack and stack[-1] != name:
                        stack.pop()
                    stack.pop()
            else:
                stack.pop()
            continue
        parent = stack[-1] if stack else None
        attrs, error = _parse_attrs(m.group("attrs"))
        error = error or _check_attrs(name, attrs, parent)
        if error:
            problems.append(error)
        if parent in ("code", "pre") and not (parent == "pre" and name == "code"):
            problems.append(f"tag <{name}> tidak boleh di dalam <{parent}>")
        if name in stack and name in ("a", "blockquote", "pre", "code"):
            problems.append(f"tag <{name}> tidak boleh bersarang di dalam <{name}>")
        stack.append(name)
    problems.extend(_text_problems(text[pos:]))
    for name in reversed(stack):
        problems.append(f"tag <{name}> tidak ditutup")
    return problems


def visible_text(text: str) -> str:
    """What the reader sees: tags removed, entities decoded."""
    return html.unescape(_ANY_TAG.sub("", text))


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
