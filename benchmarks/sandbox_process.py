"""The local Bot API server full of groups, in this process (tests) or in a process of its own.

On a 2-core machine a benchmark runs the server in one process and the client under test in
another, so each has a core and the client's CPU time is its own. ``tally`` reads back, from the
server's stored messages and recorded calls, what a broadcast actually did to the groups.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from sandbox import BotApiServer, Latency, Limits, Member, SandboxConfig


@dataclass(frozen=True)
class Target:
    """Where a client sends, and to whom: everything a client process needs (picklable)."""

    api_url: str
    file_url: str
    token: str
    chat_ids: tuple[int, ...]


@dataclass(frozen=True)
class Tally:
    """What the server saw: sendMessage answers by status, and messages per group."""

    sends: int
    delivered: int  # groups holding exactly one or more copies
    too_many: int  # 429 answers
    other_errors: int
    lost: int  # groups that never got the message
    duplicated: int  # groups that got it more than once
    server_cpu: float = 0.0  # the server's CPU seconds since it was populated


@dataclass(frozen=True)
class Setup:
    groups: int
    limits: Limits
    latency_ms: float = 0.0
    seed: int = 0


def populate(server: BotApiServer, groups: int) -> tuple[int, ...]:
    """Groups the bot is already in, without the updates that adding it would queue."""
    world = server.world
    ids = []
    for i in range(groups):
        chat = world.add_group(f"RW {i + 1:05d}", "supergroup")
        chat.bot_member = Member(world.bot, "member")
        ids.append(chat.id)
    return tuple(ids)


def tally(server: BotApiServer, chat_ids: tuple[int, ...], server_cpu: float = 0.0) -> Tally:
    statuses = Counter(c.status for c in server.calls if c.method == "sendMessage")
    copies = Counter(
        sum(1 for m in server.world.chats[cid].messages.values() if m.from_bot_self)
        for cid in chat_ids
    )
    return Tally(
        sends=sum(statuses.values()),
        delivered=sum(n for k, n in copies.items() if k > 0),
        too_many=statuses[429],
        other_errors=sum(n for s, n in statuses.items() if s not in (200, 429)),
        lost=copies[0],
        duplicated=sum(n for k, n in copies.items() if k > 1),
        server_cpu=server_cpu,
    )


def _config(setup: Setup) -> SandboxConfig:
    return SandboxConfig(
        limits=setup.limits,
        latency=Latency.fixed(setup.latency_ms) if setup.latency_ms else None,
        seed=setup.seed,
    )


@asynccontextmanager
async def in_process(setup: Setup) -> AsyncIterator[tuple[BotApiServer, Target]]:
    """The server on this event loop (for tests: small sizes only)."""
    async with BotApiServer(_config(setup)) as server:
        ids = populate(server, setup.groups)
        yield server, Target(server.api_url, server.file_url, server.token, ids)


def _serve(conn: Connection, setup: Setup) -> None:
    async def main() -> None:
        server = BotApiServer(_config(setup))
        await server.start()
        ids = populate(server, setup.groups)
        cpu = time.process_time()
        conn.send(Target(server.api_url, server.file_url, server.token, ids))
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "tally":
                conn.send(tally(server, ids, time.process_time() - cpu))
            else:
                break
        await server.stop()
        conn.send("stopped")

    asyncio.run(main())


class SandboxProcess:
    """The server in a process of its own, driven over a pipe."""

    def __init__(self, setup: Setup) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child, setup), daemon=True)
        self._process.start()
        self.target: Target = self._conn.recv()

    def tally(self) -> Tally:
        self._conn.send("tally")
        result: Tally = self._conn.recv()
        return result

    def close(self) -> None:
        if self._process.is_alive():
            self._conn.send("stop")
            self._conn.recv()
        self._process.join(10)

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def run_in_process(target: Any, *args: Any) -> Any:
    """``target(conn, *args)`` in a fresh process; what it sends back (CPU and RSS are its own)."""
    ctx = mp.get_context("spawn")
    here, child = ctx.Pipe()
    process = ctx.Process(target=target, args=(child, *args), daemon=True)
    process.start()
    try:
        result = here.recv()
    except EOFError:
        process.join()
        raise RuntimeError(f"the client process died (exit code {process.exitcode})") from None
    process.join()
    return result
