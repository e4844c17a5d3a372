"""One broadcast to every group, three ways, through the local Bot API server (issue 5).

    .venv/bin/python -m benchmarks broadcast                # full size, about half an hour
    .venv/bin/python -m benchmarks broadcast --quick        # CI size, about four minutes

Parts, printed as one table:

- ``limits``: ``--groups`` groups (5,000) with Telegram's limits on (30/s overall, 20/min per
  group) at each ``--latency-ms`` (50 and 150), for three senders: a plain ``for`` loop of
  ``await bot.send_message(...)`` that waits out a 429 and retries once (a second 429 loses the
  group); python-telegram-bot's ``AIORateLimiter`` with ``asyncio.gather`` over every send (its
  default ``max_retries=0``: a 429 loses the group); kentongan's engine with its SQLite ledger.
- ``paid``: ``--paid-chats`` groups (20,000) at 50 ms with paid broadcasts allowed (1000/s):
  the engine with ``EngineConfig(paid=True, rate=1000)``. (PTB's gather is left out: its
  limiter lets 1,000 sends go at once, httpx's pool times most of them out after 1 s, and
  4,000 chats took five minutes with 58% lost.)
- ``memory``: ``--memory-groups`` groups (100,000) resolved into deliveries and sent through the
  sandbox with limits off and no latency: peak RSS and the time to prepare the deliveries.

The server runs in one process and each sender in a fresh process of its own, so the sender's
CPU time and peak RSS are its own. Lost and duplicated are counted from the messages the server
stored per group; 429s from the calls it recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from benchmarks.sandbox_process import SandboxProcess, Setup, Tally, Target, run_in_process
from sandbox import Limits

TEXT = (
    "<b>Pengingat Pilkada Serentak 2024</b>\n"
    "Rabu, 27 November 2024, TPS buka pukul 07.00–13.00 WIB. "
    "Bawa KTP-el dan undangan (C Pemberitahuan), ajak keluarga datang ke TPS."
)
SENDERS = ("loop", "ptb", "engine")
SENDER_NAMES = {
    "loop": "plain loop, 1 retry on 429",
    "ptb": "PTB AIORateLimiter + gather",
    "engine": "kentongan engine + SQLite",
}


@dataclass(frozen=True)
class Options:
    """How a client sends; picklable, so a client process gets it whole."""

    workers: int = 24
    rate: float = 29.5
    claim_batch: int | None = None  # the engine's default
    paid: bool = False
    pool: int = 128  # PTB's connection pool for the gather baseline
    ptb_retries: int = 0


@dataclass
class ClientResult:
    wall: float  # seconds from the first send's preparation to the last answer
    cpu: float  # the client process's CPU seconds over the same span
    rss_before_mb: float  # after setup, before the broadcast
    peak_rss_mb: float
    failed: int = 0  # sends the client gave up on
    errors: dict[str, int] = field(default_factory=dict)  # why, by exception type
    machine_cpu: float = 0.0  # CPU seconds of every process on the machine over the same span
    prepare: float | None = None  # engine: seconds until the first send (deliveries resolved)
    ledger: dict[str, int] = field(default_factory=dict)  # engine: deliveries by status


@dataclass
class Row:
    part: str
    label: str
    sender: str
    groups: int
    client: ClientResult
    tally: Tally

    @property
    def rate(self) -> float:
        return self.tally.delivered / self.client.wall if self.client.wall else 0.0

    @property
    def others_load(self) -> float:
        """Cores busy with other processes during the cell (neither client nor server)."""
        c = self.client
        others = c.machine_cpu - c.cpu - self.tally.server_cpu
        return max(0.0, others / c.wall) if c.wall else 0.0

    @property
    def cpu_ms_per_delivery(self) -> float:
        return 1000 * self.client.cpu / self.tally.delivered if self.tally.delivered else 0.0


# -- the senders ------------------------------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _machine_cpu() -> float:
    """CPU seconds every process on the machine has used since boot (/proc/stat)."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class _Span:
    """Wall, process CPU and machine CPU over the part of a cell that is measured."""

    def __enter__(self) -> _Span:
        self.wall, self.cpu, self.machine = time.perf_counter(), time.process_time(), _machine_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.machine = _machine_cpu() - self.machine


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _keyboard() -> Any:
    from bot.http_sender import ack_keyboard
    from bot.notify import ack_label

    return ack_keyboard(ack_label(), "ack:1")


async def loop_sender(target: Target, options: Options) -> ClientResult:
    """What a first bot does: one send after another; a 429 is waited out and retried once."""
    from telegram import Bot
    from telegram.constants import ParseMode
    from telegram.error import RetryAfter, TelegramError

    keyboard = _keyboard()
    failed = 0
    async with Bot(target.token, base_url=target.api_url, base_file_url=target.file_url) as bot:
        rss = _rss_mb()
        with _Span() as span:
            for chat_id in target.chat_ids:
                for attempt in (1, 2):
                    try:
                        await bot.send_message(
                            chat_id, TEXT, parse_mode=ParseMode.HTML, reply_markup=keyboard
                        )
                        break
                    except RetryAfter as exc:
                        if attempt == 2:
                            failed += 1
                        else:
                            await asyncio.sleep(_seconds(exc.retry_after))
                    except TelegramError:
                        failed += 1
                        break
    return _result(span, rss, failed=failed)


async def ptb_sender(target: Target, options: Options) -> ClientResult:
    """The documented way: ExtBot with AIORateLimiter, every send gathered at once."""
    from telegram.constants import ParseMode
    from telegram.ext import AIORateLimiter, ExtBot
    from telegram.request import HTTPXRequest

    # Its give-up after max_retries is logged with a traceback per send; the count is enough.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    keyboard = _keyboard()
    bot = ExtBot(
        target.token,
        base_url=target.api_url,
        base_file_url=target.file_url,
        request=HTTPXRequest(connection_pool_size=options.pool),
        rate_limiter=AIORateLimiter(max_retries=options.ptb_retries),
    )
    async with bot:
        rss = _rss_mb()
        with _Span() as span:
            results = await asyncio.gather(
                *(
                    bot.send_message(
                        chat_id,
                        TEXT,
                        parse_mode=ParseMode.HTML,
                        reply_markup=keyboard,
                        allow_paid_broadcast=options.paid or None,
                    )
                    for chat_id in target.chat_ids
                ),
                return_exceptions=True,
            )
    errors = Counter(type(r).__name__ for r in results if isinstance(r, BaseException))
    return _result(span, rss, failed=errors.total(), errors=dict(errors))


class _FirstSendTimer:
    """A Sender wrapper that notes when the first send starts: the deliveries are ready then."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.first: float | None = None

    async def send(self, message: Any) -> Any:
        if self.first is None:
            self.first = time.perf_counter()
        return await self.inner.send(message)


async def engine_sender(
    target: Target, options: Options, db_dir: Path | None = None
) -> ClientResult:
    """kentongan's BroadcastEngine on a fresh SQLite file, the way bot/app.py builds it."""
    from benchmarks.seed import add_broadcast, add_groups
    from bot.http_sender import TelegramSender, broadcast_bot
    from bot.notify import ack_label
    from bot.storage import open_storage
    from db.models import DeliveryStatus
    from domain.groups import GROUP_DIRECTORY
    from scheduler.clock import SystemClock
    from scheduler.engine import BroadcastEngine
    from scheduler.engine_config import EngineConfig

    with tempfile.TemporaryDirectory(prefix="kentongan-bench-", dir=db_dir) as tmp:
        now = datetime.now(UTC)
        db, sessions = await open_storage(
            f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", frozenset(), now
        )
        async with sessions.begin() as session:
            await add_groups(session, target.chat_ids, now)
            broadcast_id = await add_broadcast(session, TEXT, now)
        tuning: dict[str, Any] = {"rate": options.rate, "workers": options.workers}
        if options.claim_batch is not None:
            tuning["claim_batch"] = options.claim_batch
        config = EngineConfig(paid=options.paid, **tuning)
        bot = broadcast_bot(target.token, target.api_url, target.file_url, config.workers + 4)
        await bot.initialize()
        sender = _FirstSendTimer(TelegramSender(bot))
        engine = BroadcastEngine(
            sessions,
            sender,
            SystemClock(),
            render=lambda b: b.text or "",
            groups=GROUP_DIRECTORY,
            ack_label=ack_label(),
            config=config,
        )
        try:
            rss = _rss_mb()
            start = time.perf_counter()
            with _Span() as span:
                summary = await engine.run(broadcast_id)
        finally:
            await bot.shutdown()
            await db.dispose()
    return _result(
        span,
        rss,
        failed=summary.counts.get(DeliveryStatus.FAILED.value, 0),
        prepare=sender.first - start if sender.first is not None else None,
        ledger=dict(summary.counts),
    )


def _result(span: _Span, rss: float, **kw: Any) -> ClientResult:
    return ClientResult(span.wall, span.cpu, rss, _peak_rss_mb(), machine_cpu=span.machine, **kw)


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


_CLIENTS = {"loop": loop_sender, "ptb": ptb_sender, "engine": engine_sender}


def _client(conn: Connection, kind: str, target: Target, options: Options) -> None:
    conn.send(asyncio.run(_CLIENTS[kind](target, options)))


def measure(
    part: str, label: str, kind: str, setup: Setup, options: Options, *, verbose: bool = True
) -> Row:
    """One cell: a fresh server process, a fresh client process, then the server's tally."""
    if verbose:
        print(f"  … {label}: {SENDER_NAMES[kind]}, {setup.groups:,} groups", flush=True)
    with SandboxProcess(setup) as sandbox:
        client: ClientResult = run_in_process(_client, kind, sandbox.target, options)
        tally = sandbox.tally()
    return Row(part, label, kind, setup.groups, client, tally)


# -- the table --------------------------------------------------------------------------------

_COLUMNS = (
    ("cell", 17, "<"),
    ("sender", 28, "<"),
    ("groups", 7, ">"),
    ("msg/s", 7, ">"),
    ("429s", 6, ">"),
    ("lost", 6, ">"),
    ("dup", 4, ">"),
    ("wall s", 7, ">"),
    ("CPU ms/msg", 10, ">"),
    ("srv ms/msg", 10, ">"),
    ("RSS MB", 6, ">"),
    ("prep s", 6, ">"),
    ("others", 6, ">"),
)


def _line(values: Sequence[str]) -> str:
    cells = zip(values, _COLUMNS, strict=True)
    return " ".join(f"{value:{align}{width}}" for value, (_, width, align) in cells)


def format_row(row: Row) -> str:
    c, t = row.client, row.tally
    return _line(
        [
            row.label,
            SENDER_NAMES[row.sender],
            f"{row.groups:,}",
            f"{row.rate:.1f}",
            f"{t.too_many:,}",
            f"{t.lost:,}",
            f"{t.duplicated:,}",
            f"{c.wall:.1f}",
            f"{row.cpu_ms_per_delivery:.2f}",
            f"{1000 * t.server_cpu / t.sends:.2f}" if t.sends else "—",
            f"{c.peak_rss_mb:.0f}",
            f"{c.prepare:.2f}" if c.prepare is not None else "—",
            f"{row.others_load:.2f}",
        ]
    )


def print_table(rows: Sequence[Row]) -> None:
    head = _line([name for name, _, _ in _COLUMNS])
    print()
    print(head)
    print("-" * len(head))
    part = None
    for row in rows:
        if part is not None and row.part != part:
            print()
        part = row.part
        print(format_row(row))
    print(
        "\nmsg/s: groups reached / wall time. CPU ms/msg: the sender process's CPU time"
        " (all threads) per message delivered; srv: the sandbox server's. RSS: the sender's"
        " peak. prep: until the engine's first send (deliveries resolved). others: cores"
        " busy with other processes meanwhile (of os.cpu_count()"
        f" = {os.cpu_count()})."
    )
    for row in rows:
        c, t = row.client, row.tally
        said = f"ledger {c.ledger}" if row.sender == "engine" else f"gave up on {c.failed:,}"
        if c.errors:
            said += " (" + ", ".join(f"{n:,} {kind}" for kind, n in c.errors.items()) + ")"
        print(
            f"{row.label}, {row.sender}: {said}; server: {t.sends:,} sends, {t.other_errors}"
            f" other errors; RSS before sending {c.rss_before_mb:.0f} MB"
        )


def check_targets(rows: Sequence[Row]) -> list[str]:
    """Issue 5's targets for the engine; the misses, as sentences."""
    misses = []
    for row in rows:
        if row.sender != "engine":
            continue
        t = row.tally
        if t.lost or t.duplicated:
            misses.append(f"{row.label}: {t.lost} lost, {t.duplicated} duplicated")
        if row.part == "limits":
            if row.rate < 28.5:
                misses.append(f"{row.label}: {row.rate:.1f} msg/s < 28.5")
            if t.too_many > 0.01 * t.sends:
                misses.append(f"{row.label}: {t.too_many} 429s ≥ 1% of {t.sends} sends")
        if row.part == "paid" and row.rate < 800:
            misses.append(f"{row.label}: {row.rate:.0f} msg/s < 800")
    return misses


# -- the command ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks broadcast", description=__doc__.splitlines()[0]
    )
    p.add_argument("--groups", type=int, default=5000, help="groups for the limits part")
    p.add_argument("--latency-ms", type=float, nargs="+", default=[50.0, 150.0])
    p.add_argument("--paid-chats", type=int, default=20000, help="groups for the paid part")
    p.add_argument("--paid-workers", type=int, default=128)
    p.add_argument("--memory-groups", type=int, default=100000)
    p.add_argument(
        "--parts",
        nargs="+",
        choices=("limits", "paid", "memory"),
        default=["limits", "paid", "memory"],
    )
    p.add_argument("--senders", nargs="+", choices=SENDERS, default=list(SENDERS))
    p.add_argument("--ptb-retries", type=int, default=0, help="AIORateLimiter(max_retries=...)")
    p.add_argument(
        "--quick", action="store_true", help="CI size: 500 groups, 4,000 paid, 10,000 memory"
    )
    p.add_argument("--seed", type=int, default=0)
    return p


def run(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    base = Options(ptb_retries=args.ptb_retries)
    if "limits" in args.parts:
        for ms in args.latency_ms:
            setup = Setup(args.groups, Limits(), ms, args.seed)
            for kind in args.senders:
                rows.append(measure("limits", f"limits, {ms:g} ms", kind, setup, base))
    if "paid" in args.parts:
        setup = Setup(args.paid_chats, Limits(allow_paid_broadcast=True), 50.0, args.seed)
        paid = replace(base, paid=True, rate=1000.0, workers=args.paid_workers)
        rows.append(measure("paid", "paid, 50 ms", "engine", setup, paid))
    if "memory" in args.parts:
        setup = Setup(args.memory_groups, Limits.off(), 0.0, args.seed)
        # No flood limits to respect: the pacer is set out of the way.
        fast = replace(base, rate=5000.0, workers=args.paid_workers)
        rows.append(measure("memory", "no limits, 0 ms", "engine", setup, fast))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.quick:
        args.groups, args.paid_chats, args.memory_groups = 500, 4000, 10000
    started = time.perf_counter()
    print(
        f"Broadcast benchmark: {args.groups:,} groups with Telegram's limits on at"
        f" {', '.join(f'{ms:g}' for ms in args.latency_ms)} ms; {args.paid_chats:,} paid;"
        f" {args.memory_groups:,} for memory",
        flush=True,
    )
    rows = run(args)
    print_table(rows)
    misses = check_targets(rows)
    for miss in misses:
        print(f"MISSED: {miss}")
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 1 if misses else 0
