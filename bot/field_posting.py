"""Cases into the posko: one card per case, or a digest when they come faster than the group
may receive (Telegram: about 20 messages a minute into one group).

The database says what waits (`domain.field.posko.unposted`); one poster task per posko drains
it. Before each message it asks the shared per-group pace (the same `ChatPacer` every send into
that group goes through) how much of the minute is left: while the waiting cases fit, each gets
its own card; when they do not, one digest lists up to DIGEST_SIZE of them with a button pair
per case. Nothing is dropped: a case is marked posted only once its message exists, and a
restart picks up whatever is still unposted (`resume_posting`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Message, ReplyParameters
from telegram.error import TelegramError
from telegram.ext import Application

from bot.services import Services
from bot.ui.callbacks import POSKO
from bot.ui.views import Rows, keyboard
from db.models import CaseStatus
from domain.field import categories, posko
from domain.field.cases import CaseView, case_view
from messages.render import Safe, render
from messages.telegram_html import visible_text
from scheduler.ratelimit import TELEGRAM

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]

DIGEST_SIZE = 20  # cases in one digest (two buttons each; Telegram allows 100 per message)
# Of the group's 20 a minute, what stays free for replies in the posko (note prompts, answers).
RESERVE = 4
CAPTION_LIMIT = 1024
SNIPPET = 160  # characters of a description in a digest line
DIGEST_CHARS = 3600  # of a digest's list: Telegram takes 4096, the heading needs some


def services_of(app: App) -> Services:
    services = app.bot_data.services
    assert services is not None
    return services


def t(services: Services, key: str, **params: object) -> str:
    return render(key, services.profile, services.clock.now(), params or None)


def local(services: Services, view: CaseView) -> str:
    at = view.opened_at.astimezone(services.profile.tz)
    return f"{at:%d/%m %H.%M} {services.profile.timezone_label}"


def category_label(services: Services, key: str, detail: str | None) -> str:
    kind = categories.category(key)
    if kind is None:
        return key
    return t(services, kind.detail_label(detail) if detail else kind.label)


def _status(services: Services, view: CaseView) -> str:
    who = view.assigned_name
    if view.status is CaseStatus.NEW:
        return t(services, "ui.posko.status.baru")
    if view.status is CaseStatus.HANDLING:
        return t(services, "ui.posko.status.ditangani", petugas=who)
    if view.status is CaseStatus.DONE:
        return t(services, "ui.posko.status.tuntas", petugas=who)
    return t(services, "ui.posko.status.dirujuk", petugas=who)


def card_text(services: Services, view: CaseView, *, limit: int = 4000) -> str:
    """A case as the posko reads it (Telegram HTML)."""
    lines: list[str] = []
    if view.report_count > 1:
        lines.append(t(services, "ui.posko.rincian_laporan", jumlah=view.report_count))
    if view.photo_count:
        lines.append(t(services, "ui.posko.rincian_foto", jumlah=view.photo_count))
    if view.location is not None:
        lat, lon = view.location
        url = f"https://www.google.com/maps?q={lat:.6f},{lon:.6f}"
        lines.append(t(services, "ui.posko.rincian_lokasi", peta_url=url))
    if view.note:
        lines.append(t(services, "ui.posko.rincian_catatan", catatan=view.note))
    place = view.place
    if view.tps:
        place += " · " + t(services, "ui.posko.tps", nomor=view.tps)
    room = max(80, limit - 400 - sum(len(x) for x in lines))
    description = _clip(view.description or "-", room)
    return t(
        services,
        "ui.posko.kartu",
        status=_status(services, view),
        nomor=view.id,
        kategori=category_label(services, view.category, view.detail),
        tempat=place,
        waktu=local(services, view),
        isi=description,
        rincian=Safe("".join("\n" + x for x in lines)),
    )


def _clip(text: str, room: int) -> str:
    """At most `room` characters, "…" marking a cut."""
    return text if len(text) <= room else text[: room - 1] + "…"


def card_buttons(services: Services, view: CaseView) -> InlineKeyboardMarkup | None:
    if not view.open:
        return None
    rows: Rows = []
    if view.status is CaseStatus.NEW:
        rows.append([(t(services, "ui.posko.tombol_tangani"), POSKO.build("t", view.id))])
    rows.append(
        [
            (t(services, "ui.posko.tombol_selesai"), POSKO.build("d", view.id)),
            (t(services, "ui.posko.tombol_rujuk"), POSKO.build("r", view.id)),
        ]
    )
    return keyboard(rows)


def digest_line(services: Services, view: CaseView) -> str:
    snippet = _clip(view.description or "-", SNIPPET)
    return t(
        services,
        "ui.posko.ringkasan_baris",
        nomor=view.id,
        kategori=category_label(services, view.category, view.detail),
        tempat=view.place,
        waktu=local(services, view),
        isi=snippet,
    )


def digest_buttons(services: Services, views: list[CaseView]) -> InlineKeyboardMarkup:
    rows: Rows = [
        [
            (t(services, "ui.posko.tombol_tangani_nomor", nomor=v.id), POSKO.build("t", v.id)),
            (t(services, "ui.posko.tombol_lihat_nomor", nomor=v.id), POSKO.build("v", v.id)),
        ]
        for v in views
        if v.open
    ]
    return keyboard(rows)


def digest(
    services: Services, views: list[CaseView], key: str = "ui.posko.ringkasan", **params: object
) -> tuple[list[CaseView], str]:
    """The first cases of `views` that fit one message (at most DIGEST_SIZE, and within
    Telegram's 4096 characters), and that message's text (`key`, listing them)."""
    batch: list[CaseView] = []
    lines: list[str] = []
    for view in views[:DIGEST_SIZE]:
        line = digest_line(services, view)
        if batch and len(visible_text("\n\n".join([*lines, line]))) > DIGEST_CHARS:
            break
        batch.append(view)
        lines.append(line)
    body = t(services, key, jumlah=len(batch), daftar=Safe("\n\n".join(lines)), **params)
    return batch, body


async def send_card(app: App, chat_id: int, view: CaseView, header: str = "") -> Message:
    """A case's card into a chat: with its first photo when it has one, the others after it
    as replies to the card (`send_more_photos`)."""
    services = services_of(app)
    markup = card_buttons(services, view)
    if view.photo is not None:
        caption = header + card_text(services, view, limit=CAPTION_LIMIT - len(header))
        try:
            card = await app.bot.send_photo(
                chat_id, view.photo, caption=caption, reply_markup=markup
            )
        except TelegramError as exc:  # a file id Telegram no longer knows: the words still go
            log.info("posting case %s with its photo failed: %s", view.id, exc)
        else:
            await send_more_photos(app, chat_id, view, card.message_id)
            return card
    body = header + card_text(services, view)
    card = await app.bot.send_message(chat_id, body, reply_markup=markup)
    await send_more_photos(app, chat_id, view, card.message_id, skip=0)
    return card


async def send_more_photos(
    app: App, chat_id: int, view: CaseView, card_id: int, *, skip: int = 1
) -> int:
    """The case's photos after the first `skip` (the one on the card), each a reply to the card
    by its Telegram file id (never downloaded). Each is one of the group's 20 a minute: they go
    through the same paced client as every message into the posko, so the pace holds (a burst
    of cases turns into digests the sooner). How many were posted."""
    services = services_of(app)
    posted = 0
    total = len(view.photos)
    for number, photo in enumerate(view.photos[skip:], start=skip + 1):
        caption = t(services, "ui.posko.foto_kasus", nomor=view.id, ke=number, jumlah=total)
        try:
            await app.bot.send_photo(
                chat_id, photo, caption=caption,
                reply_parameters=ReplyParameters(card_id, allow_sending_without_reply=True),
            )  # fmt: skip
            posted += 1
        except TelegramError as exc:  # one lost photo does not stop the others
            log.info("posting photo %d of case %s failed: %s", number, view.id, exc)
    return posted


async def redraw_card(app: App, view: CaseView) -> None:
    """After a change: the case's own card in the posko shows the new state (a digest line
    stays as it was; its buttons answer from the database)."""
    if view.posko_chat_id is None or view.posko_message_id is None or view.posko_digest:
        return
    services = services_of(app)
    markup = card_buttons(services, view)
    try:
        if view.photo is not None:
            await app.bot.edit_message_caption(
                view.posko_chat_id, view.posko_message_id,
                caption=card_text(services, view, limit=CAPTION_LIMIT), reply_markup=markup,
            )  # fmt: skip
        else:
            await app.bot.edit_message_text(
                card_text(services, view), view.posko_chat_id, view.posko_message_id,
                reply_markup=markup,
            )  # fmt: skip
    except TelegramError as exc:  # not modified, deleted by someone: the database is the record
        log.info("redrawing case %s failed: %s", view.id, exc)


# -- the poster -----------------------------------------------------------------------------


class Poster:
    """One draining task per posko chat; a kick while it runs makes it look again."""

    def __init__(self) -> None:
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()

    def kick(self, app: App, chat_id: int) -> asyncio.Task[None]:
        task = self._tasks.get(chat_id)
        if task is not None and not task.done():
            self._again.add(chat_id)
            return task
        task = asyncio.get_running_loop().create_task(self._drain(app, chat_id))
        self._tasks[chat_id] = task
        return task

    async def idle(self) -> None:
        """Wait until every posko is drained (tests, shutdown)."""
        while True:
            running = [t for t in self._tasks.values() if not t.done()]
            if not running:
                return
            await asyncio.gather(*running, return_exceptions=True)

    async def _drain(self, app: App, chat_id: int) -> None:
        while True:
            self._again.discard(chat_id)
            try:
                await post_pending(app, chat_id)
            except Exception:
                log.exception("posting cases into posko %s failed", chat_id)
                return
            if chat_id not in self._again:
                return


def poster(app: App) -> Poster:
    found = app.bot_data.field_poster
    if not isinstance(found, Poster):
        found = app.bot_data.field_poster = Poster()
    return found


def post_soon(app: App, chat_id: int) -> None:
    poster(app).kick(app, chat_id)


def room_left(services: Services, chat_id: int) -> int:
    used = services.broadcasts.chat_pacer.sent_recently(chat_id)
    return TELEGRAM.per_group_per_minute - RESERVE - used


async def post_pending(app: App, chat_id: int) -> int:
    """Post what waits for this posko; the number of messages sent."""
    services = services_of(app)
    sent = 0
    digesting = False  # once a burst is digested, its tail is too (not a card flood after it)
    while True:
        async with services.sessions() as session:
            waiting = [c.id for c in await posko.unposted(session, chat_id, limit=DIGEST_SIZE * 5)]
            views = [v for v in [await case_view(session, i) for i in waiting] if v is not None]
        if not views:
            return sent
        if not digesting and (len(views) == 1 or len(views) <= room_left(services, chat_id)):
            view = views[0]
            message = await send_card(app, chat_id, view)
            ids, is_digest = [view.id], False
        else:
            batch, body = digest(services, views)
            message = await app.bot.send_message(
                chat_id, body, reply_markup=digest_buttons(services, batch)
            )
            ids, is_digest = [v.id for v in batch], True
            digesting = True
        async with services.sessions.begin() as session:
            await posko.mark_posted(
                session, ids, chat_id, message.message_id, services.clock.now(), digest=is_digest
            )
        sent += 1


async def resume_posting(app: App) -> None:
    """At start: every posko with cases still waiting gets its poster."""
    services = services_of(app)
    async with services.sessions() as session:
        chats = await posko.posko_chats(session)
    for chat_id in chats:
        post_soon(app, chat_id)


# -- telling the reporter -------------------------------------------------------------------


async def tell_reporters(
    app: App, tell: tuple[tuple[int, tuple[int, ...]], ...], key: str, **params: object
) -> int:
    """Each chat the case's reports came from hears of the change once; how many did."""
    services = services_of(app)
    told = 0
    for chat_id, report_ids in tell:
        number = ", #".join(str(i) for i in report_ids)
        try:
            await app.bot.send_message(chat_id, t(services, key, nomor=number, **params))
            told += 1
        except TelegramError as exc:  # the bot left the group, the leader blocked it
            log.info("telling chat %s of a case change failed: %s", chat_id, exc)
    return told
