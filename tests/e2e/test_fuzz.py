"""Hostile input through the local Bot API server (issue 10): bounded and seeded.

Thousands of updates of the kinds an insider or a prankster sends — huge and odd ids ("²",
30 digits), forged and stale button data of every registered kind and unknown ones, presses in
groups of private-only kinds, long texts, HTML, CSV attachments with bad quoting or huge cells,
commands without or with junk arguments — from residents, group admins and members, scoped and
city-wide officials. Then: no unhandled exception in the bot's log, every command, private
message and press answered, and no English or Python internals in any answer.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.models import OfficialRole
from sandbox import Limits, SandboxConfig
from sandbox.world import Chat, Message, User
from tests.authority_fixtures import seed_official
from tests.e2e.harness import Harness, running_kentongan

pytestmark = pytest.mark.long

SEED = 20261201
UPDATES = 2000
BATCH = 24  # updates in flight at once, each in a chat of its own
ANSWER_TIMEOUT = 15.0
# Enough accounts that no one outruns the per-user flood limit (domain/flood.py: 4 at once, then
# one every 2 s), whose silence is by design: the test is about answers, not about flooding.
OFFICIALS_PER_ROLE = 16
# Friday 22 November 2024, 09.00 WIB: before masa tenang.
NOW = datetime(2024, 11, 22, 2, 0, tzinfo=UTC)

# What no person should ever read from the bot: Python and English internals.
INTERNALS = re.compile(
    r"Traceback|Exception|Error\b|\bNone\b|\\'|\\x[0-9a-f]{2}|<class |object at 0x"
    r"|is not on the map|field larger|line contains|unexpected end|Overflow|Assertion"
    r"|KeyError|ValueError|sqlalchemy|telegram\.|\bnot\b|\bthe\b",
)

ODD_NUMBERS = [
    "1", "0", "-1", "²", "٣", "①", "12a", "#5", "# 7", "1.5", "1e9", "+3", "0x10",
    "9" * 10, "9" * 19, "9" * 25, "9" * 30, "-" + "9" * 20, "00000000000000000001",
    "<b>1</b>", "１２",
]  # fmt: skip
ODD_WORDS = [
    "<b>x</b>", "O'Brien \"kutip\"", "<script>alert(1)</script>", "&amp;&", "a" * 300,
    "\u200b\u200d", "🙂" * 30, "Ѕumbеrsari", "sumbersari", "kec. lowokwaru", "rw", "rt",
    "tambah", "hapus", "setujui", "tolak", "permintaan", "admin", "operator", "35.73.05",
    "35.73.99", "daftar", "csv", "petugas", "siaran", "sebelum", "\n", "  ",
]  # fmt: skip
PRIVATE_COMMANDS = [
    "start", "kapan", "tps", "syarat", "bantuan", "siaran", "jadwal", "setujui", "batal",
    "laporan", "belum", "grup", "cakupan", "petugas", "audit", "daftar", "status",
    "berhenti", "tidakada", "siaran", "siaran", "petugas",
]  # fmt: skip
GROUP_COMMANDS = ["start", "kapan", "tps", "syarat", "bantuan", "daftar", "status", "berhenti"]
PREFIXES = ["ack", "d", "s", "p", "r", "t", "l"]
STEPS = {
    "d": ["k", "c", "l", "w", "r", "y", "s", "keep", "stop", "x", "zz", "!"],
    "s": ["m", "custom", "k", "a", "t", "ok", "no", "zz"],
    "t": ["k", "c", "l", "w", "t", "zz"],
    "l": ["r", "d", "b", "n", "n!", "zz"],
}


@dataclass
class Account:
    user: User
    role: str  # resident, leader, member, scoped, city


@dataclass
class Tally:
    updates: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    expected: int = 0
    answered: int = 0
    unanswered: list[str] = field(default_factory=list)

    def count(self, kind: str) -> None:
        self.updates += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1


def odd_number(rng: random.Random) -> str:
    return rng.choice(ODD_NUMBERS) if rng.random() < 0.8 else str(rng.randint(1, 40))


def junk_args(rng: random.Random) -> str:
    parts = [
        rng.choice(ODD_NUMBERS) if rng.random() < 0.5 else rng.choice(ODD_WORDS)
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 5]))
    ]
    if rng.random() < 0.03:
        parts.append("x" * 3000)
    return " ".join(parts)


def fit(data: str) -> str:
    """Telegram carries at most 64 bytes of callback data."""
    while len(data.encode()) > 64:
        data = data[:-1]
    return data


def forged_data(rng: random.Random, tokens: dict[str, list[str]]) -> str:
    """Data a button never carried; ``tokens``: the chat's real flow tokens by prefix, so
    forged steps reach the flows themselves."""
    roll = rng.random()
    if roll < 0.08:
        return fit(rng.choice(["", ":", ":::", "zz:1", "ack", "q:1:2", "x" * 64, "²:²", "p"]))
    prefix = rng.choice(PREFIXES)
    if prefix == "ack":
        return fit(f"ack:{odd_number(rng)}")
    if prefix == "p":
        return fit(f"p:{rng.choice(['ok', 'no', 'xx', ''])}:{odd_number(rng)}")
    if prefix == "r":
        return fit(f"r:{rng.choice(['kapan', 'tps', 'syarat', 'bantuan', 'zz', '', '²'])}")
    known = tokens.get(prefix, [])
    token = rng.choice(known) if known and rng.random() < 0.8 else f"{rng.randrange(16**6):06x}"
    steps = STEPS[prefix]
    args = [
        rng.choice(
            [
                odd_number(rng),
                "35.73.05",
                "35.73.05.1005",
                "35.73.99.9999",
                "w",
                "t",
                "0",
                "kecamatan",
                "kelurahan",
                "all",
                "now",
                "ask",
                "hoaks.saring",
                "ui.tombol.batal",
            ]
        )
        for _ in range(rng.choice([0, 1, 2, 3, 4]))
    ]
    head = [prefix] if prefix in ("t", "l") else [prefix, token]
    return fit(":".join([*head, rng.choice(steps), *args]))


def hostile_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.15:
        return "kapan " * 600 + " 3573051234567890"  # a NIK past character 2,000
    if roll < 0.3:
        return rng.choice(ODD_WORDS) * rng.randint(1, 10)
    if roll < 0.45:
        return "<b>tebal</b> <i>miring <a href='x'>tautan</a>"
    if roll < 0.6:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randint(1, 400)))
    return rng.choice(["kapan coblos?", "tps saya di mana", "syarat", "halo", "terima kasih"])


def hostile_csv(rng: random.Random) -> tuple[str, bytes]:
    header = rng.choice(["kelurahan,rw,rt\n", "kelurahan,tps,alamat,rw,rt,peta\n", "a;b\n", ""])
    body = rng.choice(
        [
            'Sumbersari,1,"2\n',  # an unterminated quote
            "Sumbersari," + "9" * 200_000 + "\n",  # a huge field
            "Sumbersari,²,1\n",
            '"Sumber"sari",1,1\n',
            "\x00\x01\x02binary",
            "35.73.05.1005,1,1\n" * rng.randint(1, 30),
            "Ѕumbеrsari,1,\n<b>x</b>,2,3\n",
            "Sumbersari,1,1,TPS 1,Jl. A,1,1,http://x y\n",
        ]
    )
    data = (header + body).encode("utf-8")
    if rng.random() < 0.2:
        data = "\ufeffkelurahan,rw\n".encode("utf-16")
    if rng.random() < 0.1:
        data = b"\xff\xfe\x81\x8d\x8f" * 100
    return rng.choice(["daftar.csv", "tps.csv", "data.txt", "x.CSV"]), data


@pytest.fixture
async def fuzzed(tmp_path: Path) -> AsyncIterator[Harness]:
    # Telegram's flood limits off: the test is about answers, not about the rate of sending.
    config = SandboxConfig(limits=Limits.off())
    async with running_kentongan(tmp_path, now=NOW, sandbox=config) as harness:
        yield harness


def _bot_state(h: Harness, chat: Chat | User) -> tuple[int, int]:
    sent = h.world.bot_messages(chat)
    return (sent[-1].message_id if sent else 0), len(sent)


async def test_hostile_updates_are_all_answered_without_exceptions(
    fuzzed: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = fuzzed
    rng = random.Random(SEED)
    caplog.set_level(logging.WARNING)
    now = h.clock.now()
    groups = await h.registered_groups(30, members=2)
    accounts: list[Account] = []
    for chat in groups:
        for member in chat.members.values():
            role = "leader" if member.status in ("creator", "administrator") else "member"
            if not member.user.is_bot:
                accounts.append(Account(member.user, role))
    accounts += [
        Account(h.world.add_user(f"Warga {i}", started=True), "resident") for i in range(120)
    ]
    async with h.services.sessions.begin() as session:
        for i in range(OFFICIALS_PER_ROLE):
            await seed_official(session, 930000 + i, OfficialRole.ADMIN, now)
            await seed_official(
                session, 931000 + i, OfficialRole.ADMIN, now, kecamatan_code="35.73.05"
            )
            await seed_official(
                session, 932000 + i, OfficialRole.OPERATOR, now, kecamatan_code="35.73.05"
            )
    accounts.append(Account(h.admin(), "city"))
    for i in range(OFFICIALS_PER_ROLE):
        accounts.append(
            Account(h.world.add_user("Admin", user_id=930000 + i, started=True), "city")
        )
        accounts.append(
            Account(h.world.add_user("Admin Kec", user_id=931000 + i, started=True), "scoped")
        )
        accounts.append(
            Account(h.world.add_user("Operator", user_id=932000 + i, started=True), "scoped")
        )
    officials = [a for a in accounts if a.role in ("city", "scoped")]
    in_group = {m.user.id: chat for chat in groups for m in chat.members.values()}

    tally = Tally()
    tokens: dict[int, dict[str, list[str]]] = {}
    started = time.monotonic()
    anchors: dict[int, Message] = {}

    def learn_tokens(chat: Chat | User) -> None:
        for m in h.world.bot_messages(chat)[-3:]:
            for b in m.buttons():
                prefix, _, rest = (b.get("callback_data") or "").partition(":")
                if prefix in ("d", "s"):
                    known = tokens.setdefault(chat.id, {}).setdefault(prefix, [])
                    if rest.split(":")[0] not in known:
                        known.append(rest.split(":")[0])
                        del known[:-3]

    while tally.updates < UPDATES:
        batch: list[tuple[str, Callable[[], bool]]] = []
        busy: set[int] = set()
        while len(batch) < BATCH and tally.updates < UPDATES:
            account = rng.choice(officials if rng.random() < 0.35 else accounts)
            group = in_group.get(account.user.id)
            where: Chat | User
            where = group if group is not None and rng.random() < 0.5 else account.user
            key = where.id
            if key in busy:
                continue
            busy.add(key)
            private = where is account.user
            last_id, _count = _bot_state(h, where)
            roll = rng.random()
            if roll < 0.45:
                # a press: forged data, or a real button of a bot message there
                pool = [m for m in h.world.bot_messages(where)[-5:] if m.buttons()]
                if pool and rng.random() < 0.4:
                    data = rng.choice(rng.choice(pool).buttons()).get("callback_data") or "zz:0"
                    kind = "press:real"
                else:
                    data = forged_data(rng, tokens.get(key, {}))
                    prefix = data.partition(":")[0]
                    kind = f"press:{prefix if prefix in PREFIXES else 'unknown'}"
                anchor = anchors.get(key) or (pool[-1] if pool else None)
                if anchor is None:
                    anchor = h.world.user_sends(account.user, None if private else where, "halo")
                    anchors[key] = anchor
                    if private:  # a private "halo" is answered too: wait for it first
                        last_id, _count = _bot_state(h, where)
                        await h.server.wait_until(
                            lambda w=where, n=last_id: _bot_state(h, w)[0] > n or None,
                            ANSWER_TIMEOUT,
                        )
                query_id = h.forge_press(account.user, anchor, data)
                tally.count(kind)
                batch.append(
                    (
                        f"{kind} {data!r} by {account.role}",
                        lambda q=query_id: h.world.callback_queries[q].answered,
                    )
                )
                continue
            sent = ""
            if roll < 0.52 and private:
                name, data = hostile_csv(rng)
                caption = rng.choice(["/cakupan", None, "/cakupan x", "/petugas"])
                h.world.user_sends_document(account.user, None, name, data, caption=caption)
                kind = "document"
            elif roll < 0.65 and private:
                h.world.user_sends(account.user, None, hostile_text(rng))
                kind = "text"
            else:
                names = PRIVATE_COMMANDS if private else GROUP_COMMANDS
                command = f"/{rng.choice(names)} {junk_args(rng)}".strip()
                h.world.user_sends(account.user, None if private else where, command)
                kind = "command" if private else "group command"
                sent = command[:60]
            tally.count(kind)
            batch.append(
                (
                    f"{kind} {sent!r} by {account.role} in {where.id}",
                    lambda w=where, n=last_id: _bot_state(h, w)[0] > n,
                )
            )
        tally.expected += len(batch)

        def settled(b: list[tuple[str, Callable[[], bool]]] = batch) -> bool:
            return all(check() for _, check in b)

        with contextlib.suppress(TimeoutError):
            await h.server.wait_until(lambda: settled() or None, ANSWER_TIMEOUT)
        for label, check in batch:
            if check():
                tally.answered += 1
            else:
                tally.unanswered.append(label)
        for chat in {*(a.user for a in officials), *groups}:
            learn_tokens(chat)

    elapsed = time.monotonic() - started
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR]
    shown = [m for c in h.world.chats.values() for m in c.messages.values() if m.from_bot_self]
    texts = [m.text or m.caption or "" for m in shown]
    texts += [a.text or "" for a in h.world.callback_answers]
    leaks = [t[:160] for t in texts if INTERNALS.search(t)]
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(tally.kinds.items()))
    print(
        f"\nfuzz: {tally.updates} updates ({kinds}); "
        f"{tally.answered}/{tally.expected} answered; {len(problems)} errors logged; "
        f"{len(leaks)} answers with internals; {len(texts)} answers read; {elapsed:.1f} s"
    )
    assert tally.updates >= UPDATES
    assert not problems, [
        f"{r.getMessage()}: {(r.exc_text or '').splitlines()[-3:]}" for r in problems[:5]
    ]
    assert not tally.unanswered, tally.unanswered[:10]
    assert not leaks, leaks[:10]
