"""The onboarding kit: the startgroup payload, the poster read back (QR code and text), the CLI."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from bot.onboarding_cli import main as poster_main
from bot.onboarding_cli import prepare, write_posters
from bot.poster import Poster, poster_pdf, poster_png
from bot.settings import Settings
from db.engine import SessionFactory
from domain import onboarding
from domain.onboarding import PAYLOAD_RULE, StartHint, parse_start_payload, start_payload
from domain.places import all_places
from election.profile import ElectionProfile
from sandbox.testing import running_server
from scheduler.clock import FixedClock

ORO_ORO_DOWO = "35.73.02.1008"


def qr_texts(image: Image.Image) -> list[str]:
    return [
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


async def test_every_kelurahan_payload_follows_telegrams_rule_and_round_trips(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        every = await all_places(session)
    assert len(every) == 57
    for place in every:
        payload = start_payload(place.code)
        assert PAYLOAD_RULE.fullmatch(payload) and len(payload) <= 64
        assert parse_start_payload(payload) == StartHint(place.code)
    assert start_payload() == "daftar"
    with pytest.raises(ValueError):
        start_payload("35.73.02")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("daftar", StartHint()),  # the old link and the city-wide poster
        ("DAFTAR-3573021008", StartHint(ORO_ORO_DOWO)),  # a client that upper-cases
        ("daftar_3573021008", StartHint(ORO_ORO_DOWO)),
        ("daftar-35730210", StartHint()),  # cut short: still registration, no place
        ("daftar-oro", StartHint()),
        ("", None),  # dropped by the client: a plain /start
        (None, None),
        ("halo", None),
    ],
)
def test_payload_is_a_hint_that_degrades_to_plain_registration(
    payload: str | None, expected: StartHint | None
) -> None:
    assert parse_start_payload(payload) == expected


async def test_hint_for_a_place_not_on_the_map_is_plain_registration(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        assert await onboarding.registration_hint(session, "daftar-3573021008") == StartHint(
            ORO_ORO_DOWO
        )
        assert await onboarding.registration_hint(session, "daftar-3573999999") == StartHint()
        assert await onboarding.registration_hint(session, "menu") is None


async def test_places_by_name_or_code_and_a_clear_refusal(sessions: SessionFactory) -> None:
    async with sessions() as session:
        assert (await onboarding.find_place(session, "Kel. Oro-oro Dowo")).code == ORO_ORO_DOWO
        assert (await onboarding.find_place(session, "3573021008")).name == "Oro-oro Dowo"
        with pytest.raises(onboarding.UnknownPlace, match="tidak dikenal"):
            await onboarding.find_place(session, "Atlantis")
        with pytest.raises(onboarding.UnknownPlace, match="tidak ada di peta"):
            await onboarding.find_place(session, "35.73.09.9999")


async def test_poster_qr_code_decodes_to_the_deep_link(
    sessions: SessionFactory, profile: ElectionProfile, clock: FixedClock
) -> None:
    async with sessions() as session:
        place = await onboarding.find_place(session, ORO_ORO_DOWO)
    link = onboarding.link_for("kentongan_bot", place)
    assert link == "https://t.me/kentongan_bot?startgroup=daftar-3573021008"
    text = onboarding.poster_text(profile, clock.now(), "Kentongan", "kentongan_bot", place)
    poster = Poster(text=text, bot_name="Kentongan", link=link)

    assert qr_texts(Image.open(io.BytesIO(poster_png(poster)))) == [link]

    pdf = PdfReader(io.BytesIO(poster_pdf(poster)))
    page = pdf.pages[0]
    assert round(float(page.mediabox.width) / 72 * 25.4) == 210  # A4
    assert round(float(page.mediabox.height) / 72 * 25.4) == 297
    (embedded,) = page.images
    assert qr_texts(embedded.image) == [link]
    words = " ".join(page.extract_text().split())
    for expected in ("Kentongan", "Kelurahan Oro-oro Dowo, Kecamatan Klojen", "Daftarkan grup ini"):
        assert expected in words


def test_invitation_carries_the_link_and_the_place(
    profile: ElectionProfile, clock: FixedClock
) -> None:
    from domain.places import Place

    place = Place(ORO_ORO_DOWO, "Oro-oro Dowo", "35.73.02", "Klojen")
    text = onboarding.invitation(profile, clock.now(), "Kentongan", "kentongan_bot", place)
    assert "https://t.me/kentongan_bot?startgroup=daftar-3573021008" in text
    assert "Kelurahan Oro-oro Dowo" in text
    city = onboarding.invitation(profile, clock.now(), "Kentongan", "kentongan_bot", None)
    assert "https://t.me/kentongan_bot?startgroup=daftar\n" in city
    assert "<" not in city  # plain text for WhatsApp


async def test_cli_names_the_bot_from_getme_and_writes_every_poster(
    tmp_path: Path, db_url: str, sessions: SessionFactory
) -> None:
    async with running_server(
        bot_username="kota_malang_bot", bot_first_name="Kentongan Malang"
    ) as server:
        settings = Settings(
            telegram_bot_token=server.token,
            telegram_base_url=server.api_url,
            database_url=db_url,
            _env_file=None,  # type: ignore[call-arg]
        )
        job = await prepare(settings, None, every=True)
        assert [c.method for c in server.calls].count("getMe") == 1
    assert job.identity.username == "kota_malang_bot"
    async with sessions() as session:
        assert len(job.targets) == 1 + len(await all_places(session))
    job.targets[2:] = []  # the city-wide one and one kelurahan are enough to read back
    written = write_posters(settings, job, tmp_path / "out")
    assert [p.name for p in written] == [
        "poster-kota-malang.pdf",
        "poster-kota-malang.png",
        "poster-35.73.01.1002-arjosari.pdf",
        "poster-35.73.01.1002-arjosari.png",
    ]
    assert qr_texts(Image.open(written[1])) == ["https://t.me/kota_malang_bot?startgroup=daftar"]
    assert qr_texts(Image.open(written[3])) == [
        "https://t.me/kota_malang_bot?startgroup=daftar-3573011002"
    ]


async def test_cli_from_the_shell_writes_files_and_refuses_unknown_places(
    tmp_path: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with running_server() as server:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", server.token)
        monkeypatch.setenv("TELEGRAM_BASE_URL", server.api_url)
        monkeypatch.setenv("DATABASE_URL", db_url)
        monkeypatch.chdir(tmp_path)  # no .env of the developer's
        # main() runs its own event loop: in a thread, while this loop serves the sandbox.
        out = tmp_path / "posters"
        assert (
            await asyncio.to_thread(poster_main, ["--kelurahan", "oro oro dowo", "--out", str(out)])
            == 0
        )
        assert sorted(p.name for p in out.iterdir()) == [
            "poster-35.73.02.1008-oro-oro-dowo.pdf",
            "poster-35.73.02.1008-oro-oro-dowo.png",
        ]
        assert await asyncio.to_thread(poster_main, ["--invite"]) == 0
        assert (
            f"https://t.me/{server.config.bot_username}?startgroup=daftar"
            in capsys.readouterr().out
        )
        assert await asyncio.to_thread(poster_main, ["--kelurahan", "Atlantis"]) == 2
    assert "Kelurahan 'Atlantis' tidak dikenal" in capsys.readouterr().err
