"""Shared fixtures for the message library tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from election.profile import ElectionProfile, load_profile


@pytest.fixture(scope="session")
def profile() -> ElectionProfile:
    return load_profile()


MessageSpec = dict[str, object]


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(value)


def message_toml(*specs: MessageSpec) -> str:
    """TOML for ``[[message]]`` tables; every spec gets sane defaults for missing fields."""
    blocks = []
    for spec in specs:
        full: dict[str, object] = {
            "title": "Judul uji",
            "audience": "all_groups",
            "text": "Halo warga {region_name}.",
            **spec,
        }
        lines = ["[[message]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in full.items() if v is not None]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


@pytest.fixture
def write_library(tmp_path: Path) -> Callable[..., Path]:
    """write_library({"file.toml": [spec, …]} or raw TOML text) -> the folder."""

    def write(files: dict[str, list[MessageSpec] | str]) -> Path:
        folder = tmp_path / "library"
        folder.mkdir(exist_ok=True)
        for name, content in files.items():
            text = content if isinstance(content, str) else message_toml(*content)
            (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
        return folder

    return write
