"""A throwaway PostgreSQL server for tests, when the machine has one installed.

The same models and migrations must work there by changing DATABASE_URL; these tests prove it
where a server binary exists (as on CI), and say plainly why they skip where it does not.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _pg_bin(name: str) -> str | None:
    for directory in PG_BIN_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unavailable_reason() -> str | None:
    if _pg_bin("initdb") is None or _pg_bin("pg_ctl") is None:
        return "no PostgreSQL server binaries on this machine"
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        return "asyncpg is not installed"
    return None


def require_server() -> None:
    """Skip without a server, saying why; on CI (CI=true) a missing server fails instead."""
    import pytest

    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true but {reason} (make test installs postgresql with apt-get)")
    pytest.skip(reason)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a private cluster on a free port; yields an asyncpg SQLAlchemy URL."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    assert initdb and pg_ctl
    root = Path(tempfile.mkdtemp(prefix="kentongan-pg-"))
    data = root / "data"
    port = _free_port()
    # PostgreSQL refuses to run as root; CI and sessions here are root, so use its own user.
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    run = lambda *args: subprocess.run(  # noqa: E731
        [*prefix, *args], check=True, capture_output=True, text=True, timeout=120
    )
    run(initdb, "-D", str(data), "-U", "kentongan", "--auth=trust", "-E", "UTF8")
    run(
        pg_ctl,
        "-D",
        str(data),
        "-l",
        str(root / "log"),
        "-w",
        "start",
        "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
    )
    try:
        yield f"postgresql+asyncpg://kentongan@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
