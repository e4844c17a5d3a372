"""The wheel, installed into a fresh venv, runs from a directory outside the checkout.

It is built from this checkout, installed without its dependencies into a new venv that sees
the suite's installed libraries (a .pth line, so no index is needed; the suite venv's
editable kentongan is not activated there), and the console script `kentongan` then runs
migrate, `messages check`, `plan` and a short rehearsal from an empty directory. Nothing may
come from the checkout: the data files are package data read through importlib.resources.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.long

ROOT = Path(__file__).resolve().parents[1]

SHORT_TIMELINE = """
election = "pilkada-2024-kota-malang"

[[entry]]
key = "h-tps-buka"
at = "H 07.00"
message = "h.tps_buka"
expires = "H 11.00"
priority = 9
"""


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{output}"
    return output


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """(the fresh venv's bin folder, an empty working folder, the build's output).

    Built once per run: under `pytest -n` the workers share one build through a file lock
    in the run's common temporary folder, since building is most of these tests' time.
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    with open(shared / "wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        base = shared / "wheel"
        if not (base / "built").is_file():
            shutil.rmtree(base, ignore_errors=True)
            base.mkdir()
            (base / "built").write_text(_build_and_install(base), encoding="utf-8")
    work = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp(), prefix="elsewhere-"))
    yield base / "venv" / "bin", work, (base / "built").read_text(encoding="utf-8")


def _build_and_install(base: Path) -> str:
    """Build the wheel from a copy of the checkout, install it into `base/venv`; the build log."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources, and a
    # stale build/ in the checkout must not leak old files into the wheel.
    source = base / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", "*.db", "*.db-*", ".*_cache"
        ),
    )
    build = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(base / "dist"), "."],
        source,
        env,
    )
    wheels = list((base / "dist").glob("kentongan-*.whl"))
    assert len(wheels) == 1, build
    target = base / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(target)
    vpy = target / "bin" / "python"
    purelib = Path(
        subprocess.check_output(
            [str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    # The suite's libraries (PTB, SQLAlchemy, …) without installing them again.
    (purelib / "suite-libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        [sys.executable, "-m", "pip", "--python", str(vpy), "install", "--no-deps", str(wheels[0])],
        base,
        env,
    )
    return build


def _env(work: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "VIRTUAL_ENV"} and not k.startswith(("TELEGRAM_", "DATABASE_"))
    }
    env.pop("ELECTION_PROFILE", None)
    env.pop("TIMELINE_FILE", None)
    # After the pops: a TIMELINE_FILE given here must reach the program (it once did not, and
    # the "short" rehearsal played the whole timeline for a minute).
    env.update(HOME=str(work), XDG_DATA_HOME=str(work / "xdg"), **extra)
    return env


def test_build_has_no_license_deprecation(installed: tuple[Path, Path, str]) -> None:
    _, _, build = installed
    assert "project.license" not in build and "License classifiers" not in build


def test_installed_code_and_data_come_from_the_venv(installed: tuple[Path, Path, str]) -> None:
    bindir, work, _ = installed
    out = _run(
        [
            str(bindir / "python"),
            "-c",
            "import bot, election.resources as r; print(bot.__file__); "
            "print(r.shipped_profile()); print(r.shipped_regions())",
        ],
        work,
        _env(work),
    )
    lines = out.split()
    assert len(lines) == 3
    for line in lines:
        assert line.startswith(str(bindir.parent)), out
        assert not line.startswith(str(ROOT)), out


def test_wheel_runs_outside_the_checkout(installed: tuple[Path, Path, str]) -> None:
    bindir, work, _ = installed
    kentongan = str(bindir / "kentongan")
    env = _env(work)

    out = _run([kentongan, "migrate"], work, env)
    assert "database at revision" in out
    database = work / "xdg" / "kentongan" / "kentongan.db"
    assert database.is_file()
    assert database.stat().st_mode & 0o777 == 0o600
    site = Path(sysconfig.get_paths()["purelib"])
    assert not list(site.glob("**/kentongan.db"))

    assert _run([kentongan, "messages", "check"], work, env).startswith("OK: ")
    # `python -m bot` beside the console script (the cheaper command: the check takes seconds).
    plan = _run([str(bindir / "python"), "-m", "bot", "plan"], work, env)
    assert "Kota Malang" in plan and "h.tps_buka" in plan

    backup = work / "cadangan.db"
    assert "OK" in _run([kentongan, "backup", str(backup)], work, env)
    assert backup.stat().st_mode & 0o777 == 0o600

    timeline = work / "timeline.toml"
    timeline.write_text(SHORT_TIMELINE, encoding="utf-8")
    rehearsal = _run(
        [kentongan, "rehearse", "--speed", "600"], work, _env(work, TIMELINE_FILE=str(timeline))
    )
    assert "Gladi selesai" in rehearsal and "h-tps-buka" in rehearsal
    assert "1 siaran" in rehearsal and "h2-masa-tenang" not in rehearsal  # TIMELINE_FILE read
