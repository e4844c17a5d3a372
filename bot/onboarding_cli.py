"""`python -m bot poster …`: QR posters and the WhatsApp invitation for getting the bot into groups.

    python -m bot poster                          the city-wide poster
    python -m bot poster --kelurahan "oro-oro dowo"   one kelurahan (name or code 35.73.05.1005)
    python -m bot poster --all                    the city-wide poster and one per kelurahan
    python -m bot poster ... --out DIR            where the PDF and PNG go (default: posters/)
    python -m bot poster ... --invite             print the invitation text instead

The bot's name and username come from Telegram (getMe) with the settings' token and base URL.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from telegram import Bot

from bot.poster import Poster, poster_pdf, poster_png
from bot.settings import Settings, SettingsError, load_settings
from bot.storage import open_storage
from domain import onboarding, places
from domain.places import Place
from election.profile import load_profile
from scheduler.clock import SystemClock


@dataclass(frozen=True)
class BotIdentity:
    name: str
    username: str


async def bot_identity(settings: Settings) -> BotIdentity:
    """getMe: what the poster calls the bot and where its link points."""
    bot = Bot(
        settings.token, base_url=settings.telegram_base_url, base_file_url=settings.base_file_url
    )
    async with bot:  # initialize() asks getMe once
        me = bot.bot
    assert me.username is not None  # bots always have one
    return BotIdentity(me.first_name, me.username)


def slug(place: Place | None, region_name: str) -> str:
    name = place.name if place else region_name
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"poster-{place.code}-{text}" if place else f"poster-{text}"


@dataclass(frozen=True)
class Job:
    identity: BotIdentity
    targets: list[Place | None]


async def prepare(settings: Settings, kelurahan: str | None, every: bool) -> Job:
    """The bot's identity and the places to make posters for (None: the city-wide one)."""
    identity = await bot_identity(settings)
    engine, sessions = await open_storage(
        settings.database_url, settings.admin_ids, SystemClock().now()
    )
    try:
        async with sessions() as session:
            targets: list[Place | None]
            if kelurahan is not None:
                targets = [await onboarding.find_place(session, kelurahan)]
            elif every:
                targets = [None, *await places.all_places(session)]
            else:
                targets = [None]
    finally:
        await engine.dispose()
    return Job(identity, targets)


def invitations(settings: Settings, job: Job) -> str:
    profile, now = load_profile(settings.election_profile), SystemClock().now()
    name, username = job.identity.name, job.identity.username
    return "\n\n".join(onboarding.invitation(profile, now, name, username, p) for p in job.targets)


def write_posters(settings: Settings, job: Job, out: Path) -> list[Path]:
    """A PDF and a PNG per place; the paths written."""
    profile, now = load_profile(settings.election_profile), SystemClock().now()
    name, username = job.identity.name, job.identity.username
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for place in job.targets:
        poster = Poster(
            text=onboarding.poster_text(profile, now, name, username, place),
            bot_name=name,
            link=onboarding.link_for(username, place),
        )
        base = slug(place, profile.region_name)
        for suffix, data in ((".pdf", poster_pdf(poster)), (".png", poster_png(poster))):
            path = out / (base + suffix)  # not with_suffix: codes have dots
            path.write_bytes(data)
            written.append(path)
    return written


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot poster", description="QR posters and the invitation text"
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--kelurahan", metavar="NAMA|KODE", help="one kelurahan")
    which.add_argument("--all", action="store_true", help="city-wide and every kelurahan")
    parser.add_argument("--out", type=Path, default=Path("posters"), help="output folder")
    parser.add_argument("--invite", action="store_true", help="print the invitation text")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        job = asyncio.run(prepare(settings, args.kelurahan, args.all))
    except (SettingsError, onboarding.UnknownPlace) as exc:
        print(f"kentongan: {exc}", file=sys.stderr)
        return 2
    if args.invite:
        print(invitations(settings, job))
        return 0
    for path in write_posters(settings, job, args.out):
        print(path)
    return 0
