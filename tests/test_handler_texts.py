"""Handlers hold no Indonesian: every sentence a user reads comes from the message library.

The check is a heuristic on the source: a string literal (not a docstring, not a log message)
with a space in it and a common Indonesian word is a sentence someone wrote inline.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from messages.library import default_library

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("bot/handlers", "bot/ui")
WORDS = frozenset(
    """
    yang tidak ini itu dan untuk dengan grup siaran ketik tombol sudah belum pilih kirim anda
    dari ke di atau akan bisa dapat harus lagi mulai batal simpan ubah terdaftar kelurahan
    kecamatan kec petugas warga laporan pengingat semua sekarang waktu tulis maaf terima kasih
    mohon hanya lain baru lama daftar cari tps berkas pesan perintah nomor menu saya
    """.split()
)
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _logged(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOG_METHODS
        ):
            for arg in node.args:
                ids.update(id(n) for n in ast.walk(arg))
    return ids


def indonesian_literals(source: str) -> list[str]:
    tree = ast.parse(source)
    skip = _docstrings(tree) | _logged(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            value = node.value
            words = set(re.findall(r"[a-z]+", value.lower()))
            if re.search(r"\s", value.strip()) and words & WORDS:
                found.append(value)
    return found


def _modules() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_indonesian_sentences_inline(path: Path) -> None:
    assert indonesian_literals(path.read_text(encoding="utf-8")) == []


def test_the_check_sees_an_inline_sentence() -> None:
    source = '''
def f(message):
    """Tell them ini tidak boleh (a docstring may say anything)."""
    log.info("grup %s tidak ada", 1)
    message.reply_text("Grup ini belum terdaftar.")
    return CommandHandler("daftar", f), f"laporan-siaran-{1}.png"
'''
    assert indonesian_literals(source) == ["Grup ini belum terdaftar."]


def test_every_key_the_handlers_name_is_in_the_library() -> None:
    library = default_library()
    named = {
        key
        for path in _modules()
        for key in re.findall(r'"((?:ui|sistem|warga)\.[a-z0-9_.]+)"', path.read_text("utf-8"))
    }
    assert named and sorted(k for k in named if k not in library) == []
