"""How long a report takes over a city of groups (issue 6).

    .venv/bin/python benchmarks/report_speed.py             # 5,000 groups, 20 broadcasts
    .venv/bin/python benchmarks/report_speed.py --groups 1000

A fresh SQLite file holds ``--groups`` registered groups spread over Kota Malang's 57
kelurahan and ``--broadcasts`` broadcasts to all of them (a few percent failed), with one to
four acknowledgements in about two groups of three (a leader's in half of those). For the
latest broadcast it times, best of ``--repeat``:

- the numbers (two aggregate queries) and the text;
- the one-row-per-group lines and the CSV;
- the chart (PNG);
- all three together, as /laporan produces them (target: under 2 s);

beside a baseline in the same run: the same numbers from a naive loop with a few queries per
group (its group, its kelurahan and kecamatan, its acknowledgements).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select

from bot.charts import report_chart
from bot.storage import open_storage
from db.engine import SessionFactory
from db.models import (
    Acknowledgement,
    Broadcast,
    BroadcastSource,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Group,
    GroupLevel,
    Kecamatan,
    Kelurahan,
)
from domain.report_groups import group_lines, report_csv
from domain.report_text import report_text
from domain.reports import Tally, broadcast_report
from election.profile import load_profile

T = TypeVar("T")
NOW = datetime(2024, 11, 25, 1, 0, tzinfo=UTC)


async def populate(sessions: SessionFactory, groups: int, broadcasts: int, seed: int) -> int:
    rng = random.Random(seed)
    async with sessions.begin() as session:
        kelurahan = (await session.scalars(select(Kelurahan.code).order_by(Kelurahan.code))).all()
        await session.execute(
            insert(Group),
            [
                {
                    "chat_id": -1_000_000_000_000 - i,
                    "title": f"RT {i % 15 + 1:02d} RW {i // 15 % 20 + 1:02d}",
                    "chat_type": "supergroup",
                    "level": GroupLevel.RT if i % 8 else GroupLevel.RW,
                    "kelurahan_code": kelurahan[i % len(kelurahan)],
                    "rw": i // 15 % 20 + 1,
                    "rt": i % 15 + 1 if i % 8 else None,
                    "active": True,
                    "subscribed": True,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(groups)
            ],
        )
        group_ids = (await session.scalars(select(Group.id).order_by(Group.id))).all()
    last = 0
    for b in range(broadcasts):
        at = NOW + timedelta(hours=b)
        async with sessions.begin() as session:
            broadcast = Broadcast(
                source=BroadcastSource.CUSTOM,
                text=f"<b>Pengingat {b + 1}</b>",
                audience="all",
                scheduled_at=at,
                started_at=at,
                finished_at=at,
                status=BroadcastStatus.DONE,
                created_at=at,
            )
            session.add(broadcast)
            await session.flush()
            last = broadcast.id
            statuses = [
                DeliveryStatus.FAILED if rng.random() < 0.03 else DeliveryStatus.SENT
                for _ in group_ids
            ]
            await session.execute(
                insert(Delivery),
                [
                    {
                        "broadcast_id": broadcast.id,
                        "group_id": gid,
                        "chat_id": -1_000_000_000_000 - i,
                        "status": status,
                        "attempts": 1,
                        "telegram_message_id": 100 + b if status is DeliveryStatus.SENT else None,
                        "last_error": None if status is DeliveryStatus.SENT else "Forbidden",
                        "created_at": at,
                        "sent_at": at if status is DeliveryStatus.SENT else None,
                        "updated_at": at,
                    }
                    for i, (gid, status) in enumerate(zip(group_ids, statuses, strict=True))
                ],
            )
            sent = (
                await session.execute(
                    select(Delivery.id).where(
                        Delivery.broadcast_id == broadcast.id,
                        Delivery.status == DeliveryStatus.SENT,
                    )
                )
            ).scalars()
            acks = []
            for delivery_id in sent:
                if rng.random() < 0.35:
                    continue
                leader = rng.random() < 0.5
                for person in range(rng.randint(1, 4)):
                    acks.append(
                        {
                            "delivery_id": delivery_id,
                            "user_id": 700_000_000 + person,
                            "is_admin": leader and person == 0,
                            "created_at": at,
                        }
                    )
            await session.execute(insert(Acknowledgement), acks)
    return last


async def naive_tally(sessions: SessionFactory, broadcast_id: int) -> dict[str, Tally]:
    """The baseline: the same per-kelurahan numbers, a few queries per group."""
    out: dict[str, Tally] = {}
    async with sessions() as session:
        deliveries = (
            await session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id))
        ).all()
        for delivery in deliveries:
            group = await session.get(Group, delivery.group_id)
            assert group is not None and group.kelurahan_code is not None
            kelurahan = await session.get(Kelurahan, group.kelurahan_code)
            assert kelurahan is not None
            await session.get(Kecamatan, kelurahan.kecamatan_code)
            people = await session.scalar(
                select(func.count()).where(Acknowledgement.delivery_id == delivery.id)
            )
            leader = await session.scalar(
                select(func.count()).where(
                    Acknowledgement.delivery_id == delivery.id,
                    Acknowledgement.is_admin.is_(True),
                )
            )
            tally = out.setdefault(kelurahan.name, Tally())
            sent = delivery.status is DeliveryStatus.SENT
            tally.add(
                Tally(
                    1,
                    int(sent),
                    int(delivery.status is DeliveryStatus.FAILED),
                    int(bool(people)),
                    int(bool(leader)),
                )
            )
    return out


async def best_of(repeat: int, job: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await job()
        best = min(best, time.perf_counter() - started)
    return best, result  # type: ignore[return-value]


async def run(groups: int, broadcasts: int, repeat: int, seed: int) -> None:
    profile = load_profile()
    with tempfile.TemporaryDirectory() as tmp:
        engine, sessions = await open_storage(
            f"sqlite+aiosqlite:///{Path(tmp) / 'report.db'}", frozenset(), NOW
        )
        try:
            started = time.perf_counter()
            latest = await populate(sessions, groups, broadcasts, seed)
            async with sessions() as session:
                deliveries = await session.scalar(select(func.count()).select_from(Delivery))
                acks = await session.scalar(select(func.count()).select_from(Acknowledgement))
            print(
                f"setup: {groups} groups, {broadcasts} broadcasts, {deliveries} deliveries, "
                f"{acks} acknowledgements in {time.perf_counter() - started:.1f} s"
            )
            report_chart((await _numbers(sessions, latest))[0])  # warm matplotlib's font cache

            async def numbers_and_text() -> Any:
                report, _ = await _numbers(sessions, latest)
                return report, report_text(report, profile)

            async def lines_and_csv() -> Any:
                async with sessions() as session:
                    lines = await group_lines(session, latest)
                return report_csv(lines, profile.tz, profile.timezone_label)

            async def chart() -> bytes:
                report, _ = await _numbers(sessions, latest)
                return await asyncio.to_thread(report_chart, report)

            async def everything() -> Any:
                report, text = await numbers_and_text()
                png = await asyncio.to_thread(report_chart, report)
                return text, png, await lines_and_csv()

            t_text, (report, text) = await best_of(repeat, numbers_and_text)
            t_csv, csv_bytes = await best_of(repeat, lines_and_csv)
            t_chart, png = await best_of(repeat, chart)
            t_all, _ = await best_of(repeat, everything)
            t_naive, naive = await best_of(1, lambda: naive_tally(sessions, latest))

            fast = {kel.name: kel.tally for _, kel in report.kelurahan()}
            assert fast == naive, "the aggregate and the naive numbers differ"
            print()
            print(f"{'step':<40} {'seconds':>8}")
            print(f"{'numbers + text (aggregate SQL)':<40} {t_text:>8.3f}")
            print(f"{'lines + CSV':<40} {t_csv:>8.3f}   {len(csv_bytes) // 1024} KiB")
            print(f"{'chart (PNG)':<40} {t_chart:>8.3f}   {len(png) // 1024} KiB")
            print(f"{'text + chart + CSV (as /laporan)':<40} {t_all:>8.3f}   target < 2 s")
            print(f"{'baseline: numbers, per-group queries':<40} {t_naive:>8.3f}")
            print()
            print(
                f"broadcast #{latest}: {report.total.targeted} groups, {report.total.delivered} "
                f"delivered, {report.total.acknowledged} acknowledged; text "
                f"{len(text)} chars; the numbers {t_naive / t_text:.0f}x faster than the baseline"
            )
        finally:
            await engine.dispose()


async def _numbers(sessions: SessionFactory, broadcast_id: int) -> Any:
    async with sessions() as session:
        return await broadcast_report(session, broadcast_id), None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="report_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=5000)
    parser.add_argument("--broadcasts", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args(argv)
    asyncio.run(run(args.groups, args.broadcasts, args.repeat, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
