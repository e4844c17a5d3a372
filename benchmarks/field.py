"""500 field reports into one posko (issue 13): within Telegram's 20 messages a minute per
group, every case shown once, nothing dropped.

    .venv/bin/python benchmarks/field.py                      # 500 reports over 60 s
    .venv/bin/python benchmarks/field.py --reports 120 --seconds 20   # quicker

Reports arrive steadily (`--reports` over `--seconds`), each from its own registered group, and
go in through `domain.field.reports.open_report` (the one door /lapor and check-ins use); the
running Application's poster posts them into the posko against the local Bot API server with
Telegram's limits on. Beside it, in the same run and on a fresh server, the baseline: one
message per case sent the moment it arrives, without pacing or digests (what a simple bot does).
Figures: messages into the posko, 429 answers, cases shown (each exactly once), the most
messages in any 60 seconds, how long until the last case was shown, and the /lapangan board
(numbers, text, CSV and chart) over all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from sqlalchemy import func, select

from bot.field_chart import field_chart
from bot.field_posting import post_soon, poster
from db.models import FieldCase, FieldReport, Group
from domain.field.board import board_csv, board_text, field_board
from domain.field.reports import open_report
from sandbox import Limits, SandboxConfig
from sandbox.testing import running_server
from tests.e2e.harness import running_kentongan

CASE = re.compile(r"#(\d+)\b")


def busiest_minute(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 60.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def load() -> str:
    try:
        one, _, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"load average {one:.2f} on {os.cpu_count()} cores"


async def kentongan(reports: int, seconds: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        async with running_kentongan(Path(folder)) as h:
            admin = h.admin()
            posko = h.world.add_group("Posko Kota", "supergroup", admins=[admin], bot="member")
            await h.say(admin, "/posko", posko)
            made = h.world.last_bot_message(posko)
            assert made is not None
            await h.registered_groups(reports)
            async with h.services.sessions() as session:
                ids = list((await session.scalars(select(Group.id).order_by(Group.id))).all())
            started = time.monotonic()
            for n, gid in enumerate(ids):
                due = started + n * seconds / reports
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                async with h.services.sessions.begin() as session:
                    await open_report(
                        session, group_id=gid, reporter_id=None, category="logistik",
                        detail="belum_tiba", description=f"Kotak suara belum tiba ({n})",
                        source="benchmark", now=h.clock.now(),
                    )  # fmt: skip
                post_soon(h.app, posko.id)
            arrived = time.monotonic() - started
            await poster(h.app).idle()
            done = time.monotonic() - started
            calls = [
                c for c in h.server.calls
                if c.params.get("chat_id") == posko.id and c.method in ("sendMessage", "sendPhoto")
            ]  # fmt: skip
            sent = [m for m in h.world.bot_messages(posko) if m.message_id > made.message_id]
            shown = [int(x) for m in sent for x in CASE.findall(m.text or m.caption or "")]
            async with h.services.sessions() as session:
                recorded = await session.scalar(select(func.count()).select_from(FieldReport))
                unposted = await session.scalar(
                    select(func.count()).select_from(FieldCase).where(FieldCase.posted_at.is_(None))
                )
            # The board over it all, as /lapangan makes it: numbers, text, CSV, chart.
            board_started = time.monotonic()
            async with h.services.sessions() as session:
                board = await field_board(session, None, h.clock.now())
            board_text(board, h.services.profile, "se-Kota Malang")
            board_csv(board, h.services.profile)
            field_chart(board, h.services.profile, "benchmark")
            board_seconds = time.monotonic() - board_started
            return {
                "messages": len(sent),
                "429": sum(1 for c in h.server.calls if c.status == 429),
                "shown": len(set(shown)),
                "shown twice": len(shown) - len(set(shown)),
                "recorded": recorded,
                "unposted": unposted,
                "busiest minute": busiest_minute([c.at for c in calls]),
                "arrival s": round(arrived, 1),
                "last shown s": round(done, 1),
                "board s": round(board_seconds, 2),
            }


async def baseline(reports: int, seconds: float) -> dict[str, object]:
    """One sendMessage per case as it arrives, no pacing: Telegram's answer counted."""
    async with running_server(SandboxConfig(limits=Limits())) as server:
        admin = server.world.add_user("Admin", started=True)
        posko = server.world.add_group("Posko Kota", "supergroup", admins=[admin], bot="member")
        url = f"{server.api_url}{server.token}/sendMessage"
        ok = refused = 0
        times: list[float] = []
        started = time.monotonic()
        async with aiohttp.ClientSession() as http:
            for n in range(reports):
                due = started + n * seconds / reports
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                body = {"chat_id": posko.id, "text": f"Kasus #{n + 1}: Kotak suara belum tiba"}
                async with http.post(url, json=body) as answer:
                    if answer.status == 200:
                        ok += 1
                        times.append(time.time())
                    elif answer.status == 429:
                        refused += 1
        return {
            "messages": ok,
            "429": refused,
            "shown": ok,
            "shown twice": 0,
            "recorded": "-",
            "unposted": reports - ok,
            "busiest minute": busiest_minute(times),
            "arrival s": round(time.monotonic() - started, 1),
            "last shown s": "-",
            "board s": "-",
        }


async def run(reports: int, seconds: float) -> int:
    print(f"{reports} field reports into one posko over {seconds:.0f} s ({load()})")
    base = await baseline(reports, seconds)
    ours = await kentongan(reports, seconds)
    rows = list(base)
    print(f"{'':<16} {'kentongan':>12} {'baseline':>12}")
    for key in rows:
        print(f"{key:<16} {ours[key]!s:>12} {base[key]!s:>12}")
    met = (
        ours["429"] == 0
        and ours["recorded"] == reports
        and ours["shown"] == reports
        and ours["shown twice"] == 0
        and ours["unposted"] == 0
        and int(str(ours["busiest minute"])) <= 20
        and float(str(ours["board s"])) < 2.0
    )
    verdict = "met" if met else "MISSED"
    print("targets (0 × 429, all recorded and shown once, ≤ 20 a minute, board < 2 s):", verdict)
    return 0 if met else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    return asyncio.run(run(args.reports, args.seconds))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
