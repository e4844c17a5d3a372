"""deploy/kentongan.service, .env.example and the operator's guide match what the code reads."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "kentongan.service"
GUIDE = ROOT / "docs" / "panduan-operator.md"
SETTINGS = {name.upper() for name in Settings.model_fields}
# Read by the programs we run (not our Settings): Python, systemd.
OTHER_ENV = {"PYTHONUNBUFFERED", "CI", "PGPASSWORD"}


def _unit() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_unit_runs_the_commands_the_cli_has_and_stops_in_time() -> None:
    service = _unit()["Service"]
    commands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    for key in ("ExecStartPre", "ExecStart"):
        program, command = service[key].split()[:2]
        assert program.endswith("/kentongan") and command in commands, service[key]
    assert service["User"] == "kentongan" and service["EnvironmentFile"].startswith("/etc/")
    assert service["Restart"] == "on-failure"
    # The graceful stop takes at most 10 s; systemd must wait longer before SIGKILL, not forever.
    assert 10 < int(service["TimeoutStopSec"]) <= 30
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert service["UMask"] == "0077"
    for assignment in service["Environment"].split():
        assert assignment.split("=")[0] in SETTINGS | OTHER_ENV


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify checks that ExecStart's program exists: point it at this venv's console script.
    script = Path(sys.executable).with_name("kentongan")
    assert script.exists(), "the project is not installed in this venv"
    names = [p.name for p in sorted((ROOT / "deploy").glob("kentongan*"))]
    assert names == ["kentongan-backup.service", "kentongan-backup.timer", "kentongan.service"]
    for name in names:
        text = (ROOT / "deploy" / name).read_text(encoding="utf-8")
        text = text.replace("/opt/kentongan/bin/kentongan", str(script))
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Unknown keys and bad values are only warnings (exit 0): none may appear.
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if "kentongan" in line]
    assert done.returncode == 0 and complaints == [], done.stdout + done.stderr


def test_backup_unit_backs_up_into_a_folder() -> None:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.read_string((ROOT / "deploy" / "kentongan-backup.service").read_text("utf-8"))
    program, command, target = parser["Service"]["execstart"].split()
    assert program.endswith("/kentongan") and command == "backup" and target.endswith("/")


def _env_names(text: str) -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_env_example_names_only_real_settings_and_all_of_them() -> None:
    names = _env_names((ROOT / ".env.example").read_text(encoding="utf-8"))
    assert names <= SETTINGS, names - SETTINGS
    assert names == SETTINGS, SETTINGS - names


def test_guide_names_only_real_settings_and_commands() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```(?:ini|env|bash|sh)?\n(.*?)```", guide, flags=re.DOTALL))
    named = {n for n in _env_names(blocks) if not n.startswith(("PG", "POSTGRES"))}
    assert named - OTHER_ENV <= SETTINGS, named - SETTINGS - OTHER_ENV
    # ... and every setting the code reads is named in the guide, in a block or in the text.
    unnamed = {s for s in SETTINGS if not re.search(rf"\b{s}\b", guide)}
    assert not unnamed, sorted(unnamed)
    commands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    used = set(re.findall(r"bin/kentongan ([a-z][a-z-]*)", blocks))
    used |= set(re.findall(r"`kentongan ([a-z][a-z-]*)", guide))
    assert used, "the guide shows no kentongan command"
    assert used <= commands, used - commands
    # What /healthz and /metrics say, in the guide as in the code.
    for phrase in ("/healthz", "/metrics", "kentongan_deliveries", "kentongan_queue_depth"):
        assert phrase in guide
    assert "deploy/kentongan.service" in guide and "pg_dump" in guide and "pg_restore" in guide
