"""The shape of the code: the domain never imports Telegram; lint stays clean."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ["domain", "scheduler", "messages", "db", "election"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("folder", DOMAIN)
def test_domain_never_imports_telegram(folder: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "telegram" in _imports(path)
    ]
    assert offenders == []


def test_importing_the_domain_loads_no_telegram() -> None:
    code = (
        "import sys, domain.broadcasts, domain.subscriptions, domain.answers, "
        "scheduler.engine, messages, db.models; print('telegram' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.skipif(
    shutil.which("ruff", path=str(Path(sys.executable).parent)) is None,
    reason="ruff is not installed in this environment",
)
def test_ruff_is_clean() -> None:
    ruff = str(Path(sys.executable).parent / "ruff")
    for args in (["check", "--output-format", "concise", "."], ["format", "--check", "."]):
        result = subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_import_layers_hold() -> None:
    """The contracts in pyproject.toml: bot > domain > scheduler > messages | db > election."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), "import-linter is part of the dev extras"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# Every layer is type-checked, not only under `make lint`; the sandbox too, since tests lean on it.
TYPE_CHECKED = {"bot", "domain", "scheduler", "messages", "db", "election", "sandbox"}


@pytest.mark.long
def test_mypy_is_clean() -> None:
    """mypy with pyproject's [tool.mypy] (about 16 s cold, under 1 s with .mypy_cache)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert set(config["tool"]["mypy"]["packages"]) >= TYPE_CHECKED
    assert importlib.util.find_spec("mypy") is not None, "mypy is part of the dev extras"
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found"), result.stdout
