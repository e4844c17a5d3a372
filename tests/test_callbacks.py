"""Callback data is declared once: every kind builds what it parses, within Telegram's 64 bytes,
and every handler of a press is registered with its kind's pattern."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from telegram.ext import CallbackQueryHandler

from bot.app import build_application
from bot.settings import Settings
from bot.ui import callbacks
from bot.ui.callbacks import (
    ACK,
    AGENDA,
    APPROVAL,
    BROADCAST_DRAFT,
    CHECKIN,
    ERASE,
    MENU,
    QUESTION,
    REGISTRATION,
    REPORT,
    TOPIC,
    TPS_LOOKUP,
    CallbackDataError,
)
from domain.answers import MENU as MENU_ENTRIES
from messages.library import default_library
from scheduler.engine import ack_callback_data

ROOT = Path(__file__).resolve().parents[1]


def test_kinds_have_distinct_prefixes_and_answers_in_the_library() -> None:
    kinds = callbacks.kinds()
    assert len({k.prefix for k in kinds}) == len(kinds) >= 7
    assert all(k.unknown in default_library() for k in kinds)
    with pytest.raises(CallbackDataError):
        callbacks.kind("d", ("x", r"\d"))


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        (ACK, (12,)),
        (REGISTRATION, ("a1b2c3", "y", "35.73.05.1005", 5, 0)),
        (REGISTRATION, ("a1b2c3", "keep")),
        (BROADCAST_DRAFT, ("a1b2c3", "a", "kecamatan", "35.73.05")),
        (APPROVAL, ("ok", 123456789012345678)),
        (MENU, ("masa_tenang",)),
        (TPS_LOOKUP, ("t", "35.73.05.1005", 30, 0)),
        (REPORT, ("n!", 7)),
        (REPORT, ("d",)),
        (AGENDA, ("p", "kerja-bakti-bulanan")),
        (AGENDA, ("v", "a" * 48)),
        (ERASE, ("batal",)),
        (QUESTION, ("l", 41, "35.73.05.1005")),
        (QUESTION, ("a", 41)),
        (TOPIC, ("kesehatan",)),
        (CHECKIN, (123456789012345678, "masalah")),
    ],
)
def test_build_then_parse_gives_the_values_back(
    kind: callbacks.CallbackKind, values: tuple
) -> None:
    data = kind.build(*values)
    assert len(data.encode()) <= callbacks.MAX_BYTES
    press = kind.parse(data)
    assert press is not None and press.kind is kind
    assert (*press.fields.values(), *press.args) == tuple(str(v) for v in values)
    assert re.match(kind.pattern, data)
    assert all(other.parse(data) is None for other in callbacks.kinds() if other is not kind)


def test_the_scheduler_builds_the_same_ack_data() -> None:
    assert ACK.build(99) == ack_callback_data(99)
    assert ACK.parse(ack_callback_data(99)).number("broadcast") == 99  # type: ignore[union-attr]


def test_menu_buttons_fit() -> None:
    assert all(MENU.parse(MENU.build(intent.value)) for _, intent in MENU_ENTRIES)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "ack",
        "ack:",
        "ack:satu",
        "ack:1:2",
        "p:maybe:1",
        "p:ok",
        "d:zz",
        "d:a1b2c3",
        "d:A1B2C3:k",
        "r:",
        "r:Kapan",
        "x:1",
        "d:a1b2c3:k:" + "9" * 60,
    ],
)
def test_malformed_data_parses_to_nothing(data: str) -> None:
    assert all(kind.parse(data) is None for kind in callbacks.kinds())


def test_building_what_a_kind_does_not_allow_is_a_bug() -> None:
    with pytest.raises(CallbackDataError):
        APPROVAL.build("maybe", 1)
    with pytest.raises(CallbackDataError):
        REGISTRATION.build("a1b2c3", "y", "35.73:05")
    with pytest.raises(CallbackDataError):
        BROADCAST_DRAFT.build("a1b2c3", "m", "x" * 30, "y" * 30)  # over 64 bytes
    with pytest.raises(CallbackDataError):
        ACK.build()


def test_every_press_handler_uses_a_declared_kind_and_one_catches_the_rest() -> None:
    settings = Settings(telegram_bot_token="123456:AAH" + "x" * 32, _env_file=None)  # type: ignore[call-arg]
    app = build_application(settings)
    handlers = [
        h for group in app.handlers.values() for h in group if isinstance(h, CallbackQueryHandler)
    ]
    patterns = [h.pattern.pattern if h.pattern is not None else None for h in handlers]
    assert patterns[-1] is None  # the catch-all, last
    assert sorted(patterns[:-1]) == sorted(k.pattern for k in callbacks.kinds())


def hand_built_data(source: str) -> list[str]:
    """String literals (an f-string's first part included) that start like a kind's data."""
    starts = re.compile("^(?:" + "|".join(re.escape(k.prefix) for k in callbacks.kinds()) + "):")
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.body and isinstance(node.body[0], ast.Expr):
                skip.add(id(node.body[0].value))  # a docstring may describe the data
        elif isinstance(node, ast.JoinedStr):
            skip.update(id(part) for part in node.values[1:])  # after a {…}: not a start
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and starts.match(node.value)
    ]


def test_the_hand_built_check_sees_data_written_by_hand() -> None:
    source = """
def keyboard(kept, topic):
    '''q:f:<id> in a docstring is a description, not data.'''
    PREFIX = "tp:"
    rows = [InlineKeyboardButton("x", callback_data=f"q:f:{kept}")]
    rows.append(InlineKeyboardButton("y", callback_data="hd:ya"))
    rows.append(InlineKeyboardButton("z", callback_data=QUESTION.build("f", kept)))
    return rows, f"{topic}: mode", "waktu: 07.00"
"""
    assert sorted(hand_built_data(source)) == ["hd:ya", "q:f:", "tp:"]


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "bot").rglob("*.py") if p.name != "callbacks.py"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_handler_builds_callback_data_by_hand(path: Path) -> None:
    """Data goes through KIND.build: its fields checked, its 64 bytes counted, its parser kept."""
    assert hand_built_data(path.read_text(encoding="utf-8")) == []
