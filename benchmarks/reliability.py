"""Exactly once through outages, a second copy and a stop (issue 9), against the local server.

    .venv/bin/python -m benchmarks reliability            # full size, about twelve minutes
    .venv/bin/python -m benchmarks reliability --quick    # smoke size, about two minutes

The local Bot API server runs in a process of its own (Telegram's limits on). Parts:

- ``outage``: ``--groups`` groups (2,000); after a quarter is sent the server drops every
  connection for each ``--outage`` (30 s, 120 s), then answers again. kentongan's engine
  (circuit breaker) beside a baseline sender with the old policy, a retry budget per delivery
  (5 tries, 0.5·2ⁿ s backoff), at the same rate. Delivered, lost, duplicated, and the time from
  the server's return to the first message through.
- ``failover``: two ``python -m bot run`` on one SQLite file; the active one is killed with
  SIGKILL mid-broadcast: copies per group, duplicates beside the sends in flight at the
  crash, and the time from the kill to the standby's first message.
- ``stop``: ``python -m bot run`` in paid mode (1000/s) gets SIGTERM mid-broadcast: time to
  exit, exit code; restarted, duplicates after it finished.

- ``mixed``: ``python -m bot run`` sending a ``--mixed-groups`` (5,000) broadcast while 20
  residents a second ask a question and 50 presses a second arrive: msg/s (all, and of the
  broadcast: replies share the one budget, so the broadcast gets what they leave), 429s,
  reply latency p50/p99, press answer latency p99 (from the server's recorded calls).

Exits 1 when a target is missed: 0 lost and 0 duplicated, resume ≤ 5 s; every group once
or duplicates ≤ in flight, takeover ≤ 15 s; exit ≤ 10 s with code 0, 0 duplicates; press
p99 < 1 s, 0 429s, broadcast ≥ 28 msg/s.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from sandbox import BotApiServer, Fault, Limits, Member, SandboxConfig

ROOT = Path(__file__).resolve().parents[1]
TEXT = "<b>Pengingat Pilkada</b>\nRabu, 27 November 2024, TPS buka pukul 07.00–13.00 WIB."


# -- the server in its own process, driven over a pipe -----------------------------------------


def _serve(conn: Connection, groups: int) -> None:
    async def main() -> None:
        server = BotApiServer(SandboxConfig(limits=Limits(), record_calls=True))
        await server.start()
        world = server.world
        ids = []
        members = {}
        for i in range(groups):
            member = world.add_user(f"Warga RW {i + 1}")
            chat = world.add_group(f"RW {i + 1:05d}", "supergroup", members=[member])
            chat.bot_member = Member(world.bot, "member")
            ids.append(chat.id)
            members[chat.id] = member
        residents = [world.add_user(f"Penduduk {i}", started=True) for i in range(400)]
        conn.send((server.api_url, server.file_url, server.token, tuple(ids)))
        loop = asyncio.get_running_loop()
        while True:
            command, arg = await loop.run_in_executor(None, conn.recv)
            if command == "down":
                server.add_fault(Fault("drop"))
                conn.send(time.time())
            elif command == "up":
                server.faults.clear()
                conn.send(time.time())
            elif command == "sent":
                conn.send(sum(1 for c in server.calls if c.method == "sendMessage" and c.ok))
            elif command == "first_ok_after":
                ok = [c.at for c in server.calls if c.method == "sendMessage" and c.ok]
                conn.send(min((t for t in ok if t >= arg), default=None))
            elif command == "mixed":
                conn.send(await _mixed_load(server, ids, members, residents, *arg))
            elif command == "copies":
                conn.send(
                    Counter(
                        sum(1 for m in world.chats[cid].messages.values() if m.from_bot_self)
                        for cid in ids
                    )
                )
            else:
                break
        await server.stop()
        conn.send("stopped")

    asyncio.run(main())


async def _mixed_load(
    server: BotApiServer,
    ids: list[int],
    members: dict[int, Any],
    residents: list[Any],
    questions_per_s: float,
    presses_per_s: float,
    seconds: float,
) -> dict[str, Any]:
    """Residents ask and members press while a broadcast runs; latencies from the calls."""
    world = server.world
    loop = asyncio.get_running_loop()
    asked: list[tuple[int, float]] = []
    pressed: list[tuple[str, float]] = []
    start_calls = len(server.calls)
    began = time.time()
    end = loop.time() + seconds
    q_next = p_next = loop.time()
    nq = np = 0
    while loop.time() < end:
        now = loop.time()
        if now >= q_next:
            resident = residents[nq % len(residents)]
            world.user_sends(resident, None, "kapan hari pencoblosan?")
            asked.append((resident.id, time.time()))
            nq += 1
            q_next += 1 / questions_per_s
        if now >= p_next:
            for _ in range(len(ids)):
                chat_id = ids[np % len(ids)]
                np += 1
                sent = [m for m in world.chats[chat_id].messages.values() if m.from_bot_self]
                if sent and sent[0].buttons():
                    data = sent[0].buttons()[0]["callback_data"]
                    query = world.press_button(members[chat_id], chat_id, sent[0].message_id, data)
                    pressed.append((query, time.time()))
                    break
            p_next += 1 / presses_per_s
        await asyncio.sleep(max(0.0, min(q_next, p_next) - loop.time()))
    await asyncio.sleep(20)  # let the last answers come
    calls = server.calls[start_calls:]
    replies: dict[int, list[float]] = {}
    answers: dict[str, float] = {}
    broadcast_ok = total_ok = 0
    for c in calls:
        done = c.at + c.duration
        if c.method == "sendMessage" and c.ok:
            chat = int(c.params.get("chat_id", 0))
            if c.at <= began + seconds:
                total_ok += 1
            if chat > 0:
                replies.setdefault(chat, []).append(done)
            elif c.at <= began + seconds:
                broadcast_ok += 1
        elif c.method == "answerCallbackQuery" and c.ok:
            answers[str(c.params.get("callback_query_id"))] = done
    reply_latency = []
    for user_id, at in asked:
        later = [t for t in replies.get(user_id, []) if t >= at]
        if later:
            reply_latency.append(min(later) - at)
            replies[user_id].remove(min(later))
    press_latency = [answers[q] - at for q, at in pressed if q in answers]
    return {
        "questions": len(asked),
        "replied": len(reply_latency),
        "presses": len(pressed),
        "answered": len(press_latency),
        "reply": sorted(reply_latency),
        "press": sorted(press_latency),
        "broadcast_rate": broadcast_ok / seconds,
        "total_rate": total_ok / seconds,
        "too_many": sum(1 for c in calls if c.status == 429),
    }


class Server:
    def __init__(self, groups: int) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child, groups), daemon=True)
        self._process.start()
        self.api_url, self.file_url, self.token, self.chat_ids = self._conn.recv()

    def ask(self, command: str, arg: Any = None) -> Any:
        self._conn.send((command, arg))
        return self._conn.recv()

    async def aask(self, command: str, arg: Any = None) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, self.ask, command, arg)

    def close(self) -> None:
        if self._process.is_alive():
            self.ask("stop")
        self._process.join(10)


# -- the database ------------------------------------------------------------------------------


async def _seed(url: str, chat_ids: tuple[int, ...]) -> tuple[Any, Any, int]:
    from benchmarks.seed import add_broadcast, add_groups
    from bot.storage import open_storage

    now = datetime.now(UTC)
    engine, sessions = await open_storage(url, frozenset({1}), now)
    async with sessions.begin() as session:
        await add_groups(session, chat_ids, now)
        broadcast_id = await add_broadcast(session, TEXT, now)
    return engine, sessions, broadcast_id


async def _states(sessions: Any, broadcast_id: int) -> dict[str, Any]:
    from db.models import Broadcast, Delivery

    async with sessions() as session:
        rows = (
            await session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.broadcast_id == broadcast_id)
                .group_by(Delivery.status)
            )
        ).all()
        status = await session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
    return {**{str(s.value): n for s, n in rows}, "broadcast": str(status.value)}


async def _until(condition: Any, bound: float, every: float = 0.1) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while not await condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(every)


# -- outage ------------------------------------------------------------------------------------


@dataclass
class OutageRow:
    sender: str
    outage: float
    delivered: int
    lost: int
    duplicated: int
    resume: float | None
    wall: float


async def _outage_engine(server: Server, outage: float, tmp: Path) -> OutageRow:
    from bot.http_sender import TelegramSender, broadcast_bot
    from domain.groups import GROUP_DIRECTORY
    from scheduler.clock import SystemClock
    from scheduler.engine import BroadcastEngine
    from scheduler.engine_config import EngineConfig

    db, sessions, broadcast_id = await _seed(
        f"sqlite+aiosqlite:///{tmp / f'outage-{outage}.db'}", server.chat_ids
    )
    config = EngineConfig()
    bot = broadcast_bot(server.token, server.api_url, server.file_url, config.workers + 4)
    await bot.initialize()
    engine = BroadcastEngine(
        sessions,
        TelegramSender(bot),
        SystemClock(),
        render=lambda b: b.text or "",
        groups=GROUP_DIRECTORY,
        config=config,
    )
    start = time.perf_counter()
    running = asyncio.create_task(engine.run(broadcast_id))
    try:
        up_at = await _outage_window(server, outage)
        await running
    finally:
        await bot.shutdown()
        await db.dispose()
    return await _outage_row(server, "kentongan engine (breaker)", outage, up_at, start)


async def _outage_window(server: Server, outage: float) -> float:
    quarter = len(server.chat_ids) // 4

    async def quarter_sent() -> bool:
        return int(await server.aask("sent")) >= quarter

    await _until(quarter_sent, bound=600)
    await server.aask("down")
    await asyncio.sleep(outage)
    return float(await server.aask("up"))


async def _outage_row(
    server: Server, name: str, outage: float, up_at: float, start: float
) -> OutageRow:
    copies: Counter[int] = await server.aask("copies")
    first = await server.aask("first_ok_after", up_at)
    row = OutageRow(
        sender=name,
        outage=outage,
        delivered=sum(n for k, n in copies.items() if k > 0),
        lost=copies[0],
        duplicated=sum(n * (k - 1) for k, n in copies.items() if k > 1),
        resume=None if first is None else first - up_at,
        wall=time.perf_counter() - start,
    )
    return row


async def _outage_baseline(server: Server, outage: float) -> OutageRow:
    """The old policy: each delivery retries on its own, 5 tries, 0.5·2ⁿ s apart."""
    from bot.http_sender import TelegramSender, broadcast_bot
    from scheduler.ratelimit import TELEGRAM
    from scheduler.sender import Outcome, OutgoingMessage

    bot = broadcast_bot(server.token, server.api_url, server.file_url, 32)
    await bot.initialize()
    sender = TelegramSender(bot)
    interval = 1 / TELEGRAM.broadcast_rate()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for chat_id in server.chat_ids:
        queue.put_nowait(chat_id)
    next_slot = [time.perf_counter()]

    async def slot() -> None:
        now = time.perf_counter()
        at = max(now, next_slot[0])
        next_slot[0] = at + interval
        await asyncio.sleep(at - now)

    async def deliver(chat_id: int) -> None:
        for attempt in range(5):
            await slot()
            result = await sender.send(OutgoingMessage(chat_id, TEXT, "✅ Sudah dibaca", "ack:1"))
            if result.outcome is Outcome.SENT:
                return
            if result.outcome is Outcome.RETRY_AFTER:
                await asyncio.sleep(result.retry_after)
            elif result.outcome is not Outcome.TRANSIENT:
                return
            await asyncio.sleep(0.5 * 2**attempt)

    async def worker() -> None:
        while not queue.empty():
            await deliver(queue.get_nowait())

    start = time.perf_counter()
    running = asyncio.gather(*(worker() for _ in range(24)))
    try:
        up_at = await _outage_window(server, outage)
        await running
    finally:
        await bot.shutdown()
    return await _outage_row(server, "baseline: 5 tries per delivery", outage, up_at, start)


def _outage_child(conn: Connection, groups: int, outage: float, kind: str) -> None:
    server = Server(groups)
    try:
        with tempfile.TemporaryDirectory(prefix="kentongan-rel-") as tmp:
            if kind == "engine":
                row = asyncio.run(_outage_engine(server, outage, Path(tmp)))
            else:
                row = asyncio.run(_outage_baseline(server, outage))
        conn.send(row)
    finally:
        server.close()


def _in_process(target: Any, *args: Any) -> Any:
    ctx = mp.get_context("spawn")
    here, child = ctx.Pipe()
    process = ctx.Process(target=target, args=(child, *args))
    process.start()
    try:
        return here.recv()
    finally:
        process.join()


# -- the bot as a program: failover and stop ---------------------------------------------------


def _env(server: Server, url: str, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ADMIN"))},
        "TELEGRAM_BOT_TOKEN": server.token,
        "TELEGRAM_BASE_URL": server.api_url,
        "DATABASE_URL": url,
        "ADMIN_IDS": "1",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


async def _bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as handle:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdout=handle, stderr=handle
        )


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


@dataclass
class FailoverRow:
    groups: int
    copies: dict[int, int]
    lost: int
    duplicated: int
    in_flight: int
    takeover: float | None


async def _failover(server: Server, tmp: Path) -> FailoverRow:
    url = f"sqlite+aiosqlite:///{tmp / 'failover.db'}"
    db, sessions, broadcast_id = await _seed(url, server.chat_ids)
    env = _env(server, url)
    first = await _bot(env, tmp / "first.log")
    second: asyncio.subprocess.Process | None = None
    try:

        async def some_sent() -> bool:
            return int(await server.aask("sent")) >= len(server.chat_ids) // 10

        await _until(some_sent, bound=120)
        second = await _bot(env, tmp / "second.log")

        async def standby() -> bool:
            return "waits as standby" in (tmp / "second.log").read_text(errors="replace")

        await _until(standby, bound=60)

        async def a_third_sent() -> bool:
            return int(await server.aask("sent")) >= len(server.chat_ids) // 3

        await _until(a_third_sent, bound=300)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        killed_at = time.time()
        in_flight = (await _states(sessions, broadcast_id)).get("sending", 0)

        async def done() -> bool:
            return (await _states(sessions, broadcast_id))["broadcast"] == "done"

        await _until(done, bound=600, every=0.5)
        first_after = await server.aask("first_ok_after", killed_at)
    finally:
        await _stop(first)
        if second is not None:
            await _stop(second)
        await db.dispose()
    copies: Counter[int] = await server.aask("copies")
    return FailoverRow(
        groups=len(server.chat_ids),
        copies=dict(sorted(copies.items())),
        lost=copies[0],
        duplicated=sum(n * (k - 1) for k, n in copies.items() if k > 1),
        in_flight=in_flight,
        takeover=None if first_after is None else first_after - killed_at,
    )


@dataclass
class StopRow:
    groups: int
    sent_at_stop: int
    exit_seconds: float
    exit_code: int | None
    sending_left: int
    duplicated: int
    lost: int


async def _graceful_stop(server: Server, tmp: Path) -> StopRow:
    url = f"sqlite+aiosqlite:///{tmp / 'stop.db'}"
    db, sessions, broadcast_id = await _seed(url, server.chat_ids)
    env = _env(server, url, PAID_BROADCAST="true", BROADCAST_RATE="1000")
    log = tmp / "stop.log"
    first = await _bot(env, log)
    try:

        async def some_sent() -> bool:
            return int(await server.aask("sent")) >= len(server.chat_ids) // 5

        await _until(some_sent, bound=300)
        sent_at_stop = int(await server.aask("sent"))
        started = time.perf_counter()
        first.send_signal(signal.SIGTERM)
        code: int | None
        try:
            code = await asyncio.wait_for(first.wait(), 60)
        except TimeoutError:
            code = None
        exit_seconds = time.perf_counter() - started
        sending_left = (await _states(sessions, broadcast_id)).get("sending", 0)
    finally:
        await _stop(first)
    second = await _bot(env, log)
    try:

        async def done() -> bool:
            return (await _states(sessions, broadcast_id))["broadcast"] == "done"

        await _until(done, bound=600, every=0.5)
    finally:
        await _stop(second)
        await db.dispose()
    copies: Counter[int] = await server.aask("copies")
    return StopRow(
        groups=len(server.chat_ids),
        sent_at_stop=sent_at_stop,
        exit_seconds=exit_seconds,
        exit_code=code,
        sending_left=sending_left,
        duplicated=sum(n * (k - 1) for k, n in copies.items() if k > 1),
        lost=copies[0],
    )


async def _mixed(server: Server, tmp: Path, seconds: float) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{tmp / 'mixed.db'}"
    db, _sessions, _broadcast_id = await _seed(url, server.chat_ids)
    process = await _bot(_env(server, url), tmp / "mixed.log")
    try:

        async def started() -> bool:
            return int(await server.aask("sent")) >= 30

        await _until(started, bound=120)
        result: dict[str, Any] = await server.aask("mixed", (20.0, 50.0, seconds))
    finally:
        await _stop(process)
        await db.dispose()
    return result


def _program_child(conn: Connection, groups: int, kind: str, seconds: float = 60.0) -> None:
    server = Server(groups)
    try:
        with tempfile.TemporaryDirectory(prefix="kentongan-rel-") as tmp:
            if kind == "mixed":
                conn.send(asyncio.run(_mixed(server, Path(tmp), seconds)))
                return
            part = _failover if kind == "failover" else _graceful_stop
            conn.send(asyncio.run(part(server, Path(tmp))))
    finally:
        server.close()


# -- the report --------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks reliability", description=__doc__)
    p.add_argument("--quick", action="store_true", help="smoke size (about two minutes)")
    p.add_argument("--groups", type=int, default=2000)
    p.add_argument("--outage", type=float, nargs="+", default=[30.0, 120.0])
    p.add_argument("--failover-groups", type=int, default=1000)
    p.add_argument("--stop-groups", type=int, default=5000)
    p.add_argument("--mixed-groups", type=int, default=5000)
    p.add_argument("--mixed-seconds", type=float, default=60.0)
    p.add_argument("--parts", nargs="+", default=["outage", "failover", "stop", "mixed"])
    args = p.parse_args(argv)
    if args.quick:
        args.groups, args.outage = 300, [5.0]
        args.failover_groups, args.stop_groups = 300, 1500
        args.mixed_groups, args.mixed_seconds = 1000, 15.0
    missed: list[str] = []

    if "outage" in args.parts:
        print(f"outage: {args.groups} groups, Telegram's limits on, server drops every connection")
        print(
            f"  {'sender':34} {'down':>6} {'delivered':>9} {'lost':>5} {'dup':>4} "
            f"{'resume':>8} {'wall':>8}"
        )
        for outage in args.outage:
            for kind in ("baseline", "engine"):
                row: OutageRow = _in_process(_outage_child, args.groups, outage, kind)
                print(
                    f"  {row.sender:34} {row.outage:5.0f}s {row.delivered:9d} {row.lost:5d} "
                    f"{row.duplicated:4d} {_fmt(row.resume):>8} {row.wall:7.1f}s",
                    flush=True,
                )
                if kind == "engine":
                    if row.lost or row.duplicated:
                        missed.append(
                            f"outage {outage:.0f}s: {row.lost} lost, {row.duplicated} dup"
                        )
                    if row.resume is None or row.resume > 5.0:
                        missed.append(f"outage {outage:.0f}s: resumed after {_fmt(row.resume)}")

    if "failover" in args.parts:
        fo: FailoverRow = _in_process(_program_child, args.failover_groups, "failover")
        print(f"failover: {fo.groups} groups, two `python -m bot run`, the active one SIGKILLed")
        print(
            f"  copies per group {fo.copies}; lost {fo.lost}; duplicated {fo.duplicated} "
            f"(in flight at the crash {fo.in_flight}); takeover {_fmt(fo.takeover)}"
        )
        print("  baseline (issue 9, before): every group got 2 copies; no takeover")
        if fo.lost or fo.duplicated > fo.in_flight:
            missed.append(f"failover: {fo.lost} lost, {fo.duplicated} dup > {fo.in_flight}")
        if fo.takeover is None or fo.takeover > 15.0:
            missed.append(f"failover: takeover {_fmt(fo.takeover)}")

    if "stop" in args.parts:
        st: StopRow = _in_process(_program_child, args.stop_groups, "stop")
        print(f"stop: {st.groups} groups, paid mode 1000/s, SIGTERM after {st.sent_at_stop} sent")
        print(
            f"  exit after {st.exit_seconds:.1f} s with code {st.exit_code}; claims left "
            f"{st.sending_left}; after restart: lost {st.lost}, duplicated {st.duplicated}"
        )
        print("  baseline (issue 9, before): 28 s to exit at 10/s; duplicates {1: 297, 2: 3}")
        if st.exit_code != 0 or st.exit_seconds > 10.0:
            missed.append(f"stop: exit {st.exit_code} after {st.exit_seconds:.1f} s")
        if st.duplicated or st.lost:
            missed.append(f"stop: {st.lost} lost, {st.duplicated} duplicated")

    if "mixed" in args.parts:
        mx: dict[str, Any] = _in_process(
            _program_child, args.mixed_groups, "mixed", args.mixed_seconds
        )

        def pct(values: list[float], q: float) -> float | None:
            return values[min(len(values) - 1, int(q * len(values)))] if values else None

        print(
            f"mixed: {args.mixed_groups}-group broadcast + 20 questions/s + 50 presses/s "
            f"for {args.mixed_seconds:.0f} s"
        )
        print(
            f"  all messages {mx['total_rate']:.1f} msg/s (broadcast "
            f"{mx['broadcast_rate']:.1f}, the rest replies); 429s {mx['too_many']}; replies "
            f"{mx['replied']}/{mx['questions']} p50 {_fmt(pct(mx['reply'], 0.5))} p99 "
            f"{_fmt(pct(mx['reply'], 0.99))}; presses {mx['answered']}/{mx['presses']} p99 "
            f"{_fmt(pct(mx['press'], 0.99))}"
        )
        print("  baseline (issue 9, before): 0 of 50 presses answered within 15 s; 429s")
        p99 = pct(mx["press"], 0.99)
        if p99 is None or p99 >= 1.0 or mx["answered"] < mx["presses"]:
            missed.append(f"mixed: press p99 {_fmt(p99)}, {mx['answered']}/{mx['presses']}")
        if mx["too_many"]:
            missed.append(f"mixed: {mx['too_many']} 429s")
        # One budget of ~30/s: replies take their share first, the broadcast the rest.
        if mx["total_rate"] < 28:
            missed.append(f"mixed: {mx['total_rate']:.1f} msg/s in all < 28")

    for line in missed:
        print(f"MISSED: {line}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
