"""Telegram HTML validation and length counting."""

from __future__ import annotations

import pytest

from messages.telegram_html import escape, telegram_length, validate_html, visible_text


@pytest.mark.parametrize(
    "text",
    [
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
    ],
)
def test_valid(text: str) -> None:
    assert validate_html(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<p>x</p>", "tag <p> tidak didukung Telegram"),
        ("<b>x", "tag <b> tidak ditutup"),
        ("<b><i>x</b></i>", "tag <i> harus ditutup sebelum </b>"),
        ("x < y", "karakter < tidak di-escape"),
        ("x > y", "karakter > tidak di-escape"),
        ("x & y", "karakter & tidak di-escape"),
        ("&copy;", "entitas &copy; tidak dikenal Telegram"),
        ("<a>x</a>", "tag <a> wajib punya href"),
        ('<a href="https://x.id/?a=1&b=2">x</a>', "href berisi & yang tidak di-escape"),
        ('<a href="https://x.id" target="_blank">x</a>', "atribut tidak dikenal Telegram pada <a>"),
        ('<a href="https://x.id"><a href="https://y.id">x</a></a>', "tidak boleh bersarang"),
        ("<code><b>x</b></code>", "tag <b> tidak boleh di dalam <code>"),
        ('<code class="language-py">x</code>', "class pada <code>"),
        ("<b/>", "tidak boleh ditutup sendiri"),
        ("</b x>", "tag </b> ditutup tanpa pernah dibuka"),
    ],
)
def test_invalid(text: str, expected: str) -> None:
    problems = validate_html(text)
    assert any(expected in p for p in problems), problems


def test_visible_text_and_length() -> None:
    text = '<b>Halo</b> &amp; <a href="https://kpu.go.id">KPU</a> 🗳️'
    assert visible_text(text) == "Halo & KPU 🗳️"
    # 🗳 is outside the BMP (2 units) and the variation selector U+FE0F is 1 more.
    assert telegram_length(text) == len("Halo & KPU ") + 3
    assert telegram_length("<b>x</b>", html_mode=False) == 8


def test_escape() -> None:
    assert escape("""<a & "b" 'c'>""") == "&lt;a &amp; &quot;b&quot; 'c'&gt;"
    assert validate_html(escape('1 < 2 & 3 > "x"')) == []
