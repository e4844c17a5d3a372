"""Pre-flight over a city of groups against the local Bot API server with read limits on.

    .venv/bin/python -m benchmarks preflight                    # 5,000 groups, reads at 30/s
    .venv/bin/python -m benchmarks preflight --groups 500 --baseline-groups 200   # quick

Telegram publishes no limit for getChat/getChatMember; the sandbox is set to the sending
budget (``--limit``, 30/s, burst 30) as the assumption. About 2% of the groups have the bot
kicked, 1% restricted, 1% migrated to a supergroup (all without the updates the bot would
have had). Printed, in the same run:

- baseline: the same checks with no pacer (8 workers as fast as the server answers, retrying
  each 429 after its retry_after) over ``--baseline-groups`` groups;
- kentongan's pre-flight (one PriorityPacer at ``--rate``) over ``--groups`` groups;
- the same as the scheduled step (``domain.preflight_schedule.run_slot``, what the H-3/H-1
  job runs): the check, then the report sent to a root admin in private chat, once;

each with Telegram calls, 429 answers, wall time and the least time the limit allows
(calls / limit), plus the load of the other processes on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from benchmarks.seed import add_groups
from bot.http_sender import broadcast_bot
from bot.notices import BotNotifier
from bot.preflight import BotProber
from bot.storage import open_storage
from bot.ui.callbacks import PREFLIGHT
from db.models import PreflightCheck, ReachOutcome
from domain import preflight
from domain.preflight_schedule import run_slot, slots
from election.profile import load_profile
from sandbox import BotApiServer, Limits, Member, SandboxConfig
from scheduler.clock import SystemClock
from scheduler.ratelimit import PriorityPacer

NOW = datetime(2024, 11, 26, 3, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Cell:
    name: str
    groups: int
    calls: int
    too_many: int
    wall: float
    limit: float
    outcomes: dict[ReachOutcome, int]
    others_load: float
    rate: float | None = None
    reported_to: int | None = None

    @property
    def floor(self) -> float:
        """The least time the limit allows for the answered calls (the burst comes free)."""
        return max(0.0, self.calls - self.too_many - LIMIT_BURST) / self.limit

    @property
    def floor_at_rate(self) -> float:
        """The least time kentongan's own pacer allows (calls / rate), the tighter bound."""
        return (self.calls - self.too_many) / self.rate if self.rate else self.floor


LIMIT_BURST = 30


def _cpu_total() -> float:
    with open("/proc/stat") as stat:
        fields = [float(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def populate(server: BotApiServer, groups: int) -> list[int]:
    """Groups with the bot in; every 50th kicked, every 100th restricted or migrated."""
    world = server.world
    leader = world.add_user("Ketua")
    ids: list[int] = []
    for i in range(groups):
        kind = "group" if i % 100 == 7 else "supergroup"
        chat = world.add_group(f"RW {i + 1:05d}", kind, admins=[leader])  # type: ignore[arg-type]
        chat.bot_member = Member(world.bot, "member")
        if i % 50 == 3:
            chat.bot_member = Member(world.bot, "kicked")
        elif i % 100 == 5:
            chat.bot_member = Member(world.bot, "restricted")
        ids.append(chat.id)
    for i in range(7, groups, 100):
        world.migrate_to_supergroup(ids[i], by=leader)
    world.drop_pending_updates()
    return ids


ROOT_ADMIN = 910001


async def cell(
    name: str, groups: int, rate: float | None, limit: float, *, scheduled: bool = False
) -> Cell:
    config = SandboxConfig(limits=Limits(read_per_second=limit, read_burst=LIMIT_BURST))
    reported_to: int | None = None
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'kentongan.db'}"
        engine, sessions = await open_storage(url, frozenset({ROOT_ADMIN}), NOW)
        async with BotApiServer(config) as server:
            ids = populate(server, groups)
            server.world.add_user("Bu Admin", user_id=ROOT_ADMIN, started=True)
            async with sessions.begin() as session:
                await add_groups(session, ids, NOW, rw=lambda i: i % 40 + 1)
            bot = broadcast_bot(server.token, server.api_url, server.file_url, preflight.WORKERS)
            # No pacer: a rate no server reaches; the 429 pauses still apply (what PTB's
            # AIORateLimiter would do, at best).
            pacer = PriorityPacer(rate if rate is not None else 1e6)
            async with bot:
                cpu, own, start = _cpu_total(), time.process_time(), time.monotonic()
                if scheduled:
                    profile = load_profile()
                    slot = slots(profile)[0]
                    row = await run_slot(
                        sessions,
                        BotProber(bot),
                        BotNotifier(bot),
                        profile,
                        SystemClock().now,
                        slot,
                        button=lambda run_id: ("Kirim petunjuk", PREFLIGHT.build("h", run_id)),
                        pacer=pacer,
                    )
                    assert row is not None
                    reported_to = row.reported_to
                    async with sessions() as session:
                        found = (
                            await session.execute(
                                select(PreflightCheck.outcome, func.count())
                                .where(PreflightCheck.run_at == row.run_at)
                                .group_by(PreflightCheck.outcome)
                            )
                        ).all()
                    findings = [o for o, n in found for _ in range(n)]
                else:
                    run = await preflight.run_preflight(
                        sessions, BotProber(bot), SystemClock().now, pacer=pacer
                    )
                    findings = [f.outcome for f in run.findings]
                wall = time.monotonic() - start
                others = _cpu_total() - cpu - (time.process_time() - own)
            reads = [c for c in server.calls if c.method in ("getChat", "getChatMember")]
        await engine.dispose()
    outcomes: dict[ReachOutcome, int] = {}
    for outcome in findings:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return Cell(
        name,
        groups,
        len(reads),
        sum(1 for c in reads if c.status == 429),
        wall,
        limit,
        outcomes,
        # This process runs both server and client: whatever else the machine did is "others".
        max(0.0, others / wall) if wall else 0.0,
        rate,
        reported_to,
    )


def show(c: Cell) -> None:
    found = ", ".join(f"{o.value} {n}" for o, n in sorted(c.outcomes.items()))
    if c.reported_to is not None:
        found += f"; reported to {c.reported_to}"
    ratio = c.wall / c.floor_at_rate if c.floor_at_rate else 0.0
    print(
        f"{c.name:<34}{c.groups:>7}{c.calls:>8}{c.too_many:>7}{c.wall:>9.1f}s"
        f"{c.floor:>9.1f}s{c.floor_at_rate:>10.1f}s{ratio:>7.2f}x"
        f"{c.others_load:>7.2f}   {found}"
    )


async def run(args: argparse.Namespace) -> None:
    print(
        f"pre-flight, reads limited to {args.limit:g}/s (burst {LIMIT_BURST}); "
        f"cores: {os.cpu_count()}"
    )
    print(
        f"{'':<34}{'groups':>7}{'calls':>8}{'429':>7}{'wall':>10}{'floor':>10}{'at rate':>11}"
        f"{'ratio':>8}"
        f"{'others':>7}   found"
    )
    if args.baseline_groups:
        show(await cell("baseline: no pacer, retry on 429", args.baseline_groups, None, args.limit))
    if not args.scheduled_only:
        name = f"kentongan: paced at {args.rate:g}/s"
        show(await cell(name, args.groups, args.rate, args.limit))
    name = f"scheduled step at {args.rate:g}/s"
    show(await cell(name, args.groups, args.rate, args.limit, scheduled=True))
    print(
        "floor: (calls - 429s - burst) / limit; at rate: answered calls / kentongan's rate; "
        "ratio: wall / at rate; others: cores busy with other processes meanwhile"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks preflight")
    parser.add_argument("--groups", type=int, default=5000)
    parser.add_argument("--baseline-groups", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=preflight.DEFAULT_RATE)
    parser.add_argument("--limit", type=float, default=30.0, help="the sandbox's reads per second")
    parser.add_argument(
        "--scheduled-only", action="store_true", help="only the scheduled step (and the baseline)"
    )
    asyncio.run(run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
