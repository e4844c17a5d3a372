"""Telegram HTML validation and length counting: Telegram's own rules (tdlib's parser)."""

from __future__ import annotations

import pytest

from messages.telegram_html import (
    HtmlParseError,
    escape,
    telegram_length,
    validate_html,
    visible_text,
)
from sandbox.errors import ApiError
from sandbox.formatting import format_text

VALID = [
    "Halo",
    "<b>tebal</b> <strong>x</strong> <i>miring</i> <em>x</em> <u>x</u> <ins>x</ins>",
    "<s>x</s> <strike>x</strike> <del>x</del>",
    '<span class="tg-spoiler">rahasia</span> <tg-spoiler>rahasia</tg-spoiler>',
    '<a href="https://cekdptonline.kpu.go.id">cek</a>',
    '<a href="https://x.id/?a=1&amp;b=2">tautan</a>',
    "<code>/daftar</code>",
    '<pre><code class="language-python">print(1)</code></pre>',
    "<blockquote>kutipan</blockquote> <blockquote expandable>panjang</blockquote>",
    "<b>tebal <i>dan miring</i></b>",
    "1 &lt; 2 &gt; 0 &amp; &quot;kutip&quot; &#8211; &#x2013;",
    "Pukul 07.00 WIB — \"kutip\" 'tunggal'",
    "<B>besar</B>",
    "<b>tebal</>",  # Telegram closes the innermost tag on an empty end tag
    # Telegram accepts these although the old, home-made validator refused them:
    "x > y",  # a bare > is plain text
    "<a>https://kpu.go.id</a>",  # no href: the text is the link
    '<a href="https://x.id/?a=1&b=2">x</a>',  # & in an attribute stays literal
    '<a href="https://x.id" target="_blank">x</a>',  # unknown attributes are ignored
    "<code><b>x</b></code>",
    '<code class="language-py">x</code>',
    "<tg-emoji emoji-id='5368324170671202286'>👍</tg-emoji>",
]
INVALID = [
    ("<p>x</p>", "tag <p> tidak didukung Telegram"),
    ("<b>x", "tag <b> tidak ditutup"),
    ("<b><i>x</b></i>", "tag <i> harus ditutup sebelum </b>"),
    ("x < y", "karakter < tidak di-escape"),
    ("x <", "karakter < tidak di-escape"),
    ("x & y", "karakter & tidak di-escape"),
    ("&copy;", "entitas &copy; tidak dikenal Telegram"),
    ("<b/>", "tidak boleh ditutup sendiri"),
    ("</b x>", "tag </b> ditutup tanpa pernah dibuka"),
    ("<a href=https://x.id>x</a>", "harus diapit tanda kutip"),
    ('<span class="x">x</span>', 'class="tg-spoiler"'),
    ("<tg-emoji emoji-id='x'>y</tg-emoji>", "emoji-id"),
]


@pytest.mark.parametrize("text", VALID)
def test_valid(text: str) -> None:
    assert validate_html(text) == []


@pytest.mark.parametrize(("text", "expected"), INVALID)
def test_invalid(text: str, expected: str) -> None:
    problems = validate_html(text)
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize("text", [*VALID, *(text for text, _ in INVALID)])
def test_the_check_and_the_local_server_agree(text: str) -> None:
    """What the check refuses is exactly what the local Bot API server answers with a 400."""
    try:
        format_text(text, "HTML", None)
        accepted = True
    except ApiError as exc:
        assert "can't parse entities" in exc.description
        accepted = False
    assert accepted == (validate_html(text) == [])


def test_visible_text_and_length() -> None:
    text = '<b>Halo</b> &amp; <a href="https://kpu.go.id">KPU</a> 🗳️'
    assert visible_text(text) == "Halo & KPU 🗳️"
    # 🗳 is outside the BMP (2 units) and the variation selector U+FE0F is 1 more.
    assert telegram_length(text) == len("Halo & KPU ") + 3
    assert telegram_length("<b>x</b>", html_mode=False) == 8
    # Telegram knows only four named entities; the rest stay as written.
    assert visible_text("&copy; &#169;") == "&copy; ©"
    with pytest.raises(HtmlParseError):
        visible_text("<b>x")


def test_escape() -> None:
    assert escape("""<a & "b" 'c'>""") == "&lt;a &amp; &quot;b&quot; 'c'&gt;"
    assert validate_html(escape('1 < 2 & 3 > "x"')) == []
