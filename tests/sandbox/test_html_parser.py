"""Telegram's HTML parse mode: text, entities and error positions."""

from __future__ import annotations

import pytest

from sandbox.entities import command_of, find_entities
from sandbox.formatting import format_text
from sandbox.html_parser import HtmlParseError, parse_html


def test_entity_offsets_are_utf16_units() -> None:
    text, entities = parse_html("😀 <b>Rabu</b> <i>é</i>")
    assert text == "😀 Rabu é"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "italic", "offset": 8, "length": 1},
    ]


def test_nested_tags_and_attributes() -> None:
    text, entities = parse_html("<b>Info <a href='https://kpu.go.id/?a=1&amp;b=2'>KPU</a></b>")
    assert text == "Info KPU"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 8},
        {"type": "text_link", "offset": 5, "length": 3, "url": "https://kpu.go.id/?a=1&b=2"},
    ]


def test_tags_are_case_insensitive_and_end_tags_may_be_empty() -> None:
    assert parse_html("<B>x</>") == ("x", [{"type": "bold", "offset": 0, "length": 1}])


def test_empty_tags_make_no_entity() -> None:
    assert parse_html("a<b></b>b") == ("ab", [])


def test_literal_ampersand_is_kept_unless_strict() -> None:
    assert parse_html("AT&T &copy;") == ("AT&T &copy;", [])
    with pytest.raises(HtmlParseError, match='Unescaped "&" at byte offset 2'):
        parse_html("AT&T", strict_ampersand=True)


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<a href=x/y>z</a>", "Unexpected end of name token at byte offset 8"),
        ("<a href", 'Unclosed start tag "a" at byte offset 0'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<tg-emoji emoji-id='x'>y</tg-emoji>", "Invalid custom emoji identifier specified"),
    ],
)
def test_errors_like_telegram(html: str, reason: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(html)
    assert str(caught.value) == reason


def test_text_is_trimmed_and_entities_follow() -> None:
    assert format_text("\n  <b>Halo</b>  \n", "HTML", None) == (
        "Halo",
        [{"type": "bold", "offset": 0, "length": 4}],
    )


def test_commands_found_like_telegram() -> None:
    entities = find_entities("/daftar@kentongan_bot RT 05 /bantuan a/b")
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bot_command", 0, 21),
        ("bot_command", 28, 8),
    ]
    assert command_of("/daftar@kentongan_bot RT 05", entities) == ("daftar", "kentongan_bot")
    assert command_of("halo /daftar", find_entities("halo /daftar")) is None
