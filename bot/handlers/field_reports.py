"""/lapor: an RW/RT leader reports a problem from the field, guided with buttons.

In the group (by one of its admins) or in private chat (for a group the bot knows they lead).
Steps, kept in the flow store (kind lapor, the reporter's chat and id; survives a restart):
`grup` (private chat, several groups) → `kategori` → `tps` (typed, or skipped) → `isi` (typed)
→ `foto` (photos and a location, optional) → `konfirmasi` → the receipt. In a group the bot
reads only commands and replies (privacy mode), so typed steps ask for a reply.

Buttons: callbacks.FIELD_REPORT, `lp:<token>:<step>[:<value>…]`: g <group>, k <category>
[<detail>], skip, next, ok, no, resume, new.
"""

from __future__ import annotations

from typing import Any

from telegram import Chat, Message, Update
from telegram.constants import ChatType
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.field_jobs import schedule_new_case
from bot.field_posting import post_soon, redraw_card
from bot.ui import callbacks
from bot.ui.callbacks import FIELD_REPORT, refuse
from bot.ui.guards import ANY_ADMIN, anonymous_admin, is_admin
from bot.ui.typed_input import TypedFlow
from bot.ui.views import Rows, edit_or_reply, keyboard, local_time, text
from db.models import Group
from domain import flows
from domain.field import categories, reports
from domain.field.cases import case_view
from domain.field.reports import MAX_DESCRIPTION, MAX_PHOTOS, Refusal, ReportRefused
from domain.flows import Flow, FlowKind, Found
from domain.groups import group_by_chat

KIND = FlowKind.FIELD_REPORT


def _data(flow: Flow, *parts: object) -> str:
    return FIELD_REPORT.build(flow.token, *parts)


def _cancel(context: BotContext, flow: Flow) -> tuple[str, str]:
    return (text(context, "ui.tombol.batal"), _data(flow, "no"))


def _in_group(chat: Chat) -> bool:
    return chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def _reporter_key(message: Message) -> int | None:
    """Whose flow a message continues: the sender, ANY_ADMIN for an anonymous admin."""
    if anonymous_admin(message):
        return ANY_ADMIN
    return message.from_user.id if message.from_user is not None else None


async def _save(context: BotContext, flow: Flow, step: str, **data: Any) -> Flow:
    services = context.services
    async with services.sessions.begin() as session:
        return await flows.advance(session, flow, services.clock.now(), step=step, data=data)


async def _end(context: BotContext, flow: Flow) -> None:
    async with context.services.sessions.begin() as session:
        await flows.end(session, KIND, flow.chat_id, flow.user_id)


# -- starting ----------------------------------------------------------------------------------


async def lapor(update: Update, context: BotContext) -> None:
    """Start a report (or offer to resume the one left half-way)."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    reporter = _reporter_key(message)
    if reporter is None:
        return
    services = context.services
    now = services.clock.now()
    if _in_group(chat):
        async with services.sessions() as session:
            group = await group_by_chat(session, chat.id)
        if group is None or not reports.registered(group):
            await message.reply_text(text(context, "ui.lapor.grup_belum_terdaftar"))
            return
        if reporter != ANY_ADMIN and not await is_admin(context, chat.id, reporter):
            await message.reply_text(text(context, "ui.lapor.bukan_admin"))
            return
        groups = [group]
    else:
        async with services.sessions() as session:
            groups = await reports.groups_led_by(session, reporter)
        if not groups:
            await message.reply_text(text(context, "ui.lapor.tidak_ada_grup"))
            return
    async with services.sessions() as session:
        lookup = await flows.current(session, KIND, chat.id, reporter, now)
    if lookup.found is Found.CURRENT and lookup.flow is not None:
        flow = lookup.flow
        rows: Rows = [
            [
                (text(context, "ui.lapor.tombol_lanjutkan"), _data(flow, "resume")),
                (text(context, "ui.lapor.tombol_mulai_baru"), _data(flow, "new")),
            ],
            [_cancel(context, flow)],
        ]
        when = local_time(context, flow.expires_at - flows.TTL[KIND]) if flow.expires_at else ""
        await message.reply_text(
            text(context, "ui.lapor.lanjutkan", waktu=when), reply_markup=keyboard(rows)
        )
        return
    await _begin(update, context, chat.id, reporter, groups)


async def _begin(
    update: Update, context: BotContext, chat_id: int, reporter: int, groups: list[Group]
) -> None:
    services = context.services
    async with services.sessions.begin() as session:
        flow = await flows.start(
            session, KIND, chat_id, reporter, services.clock.now(), step="grup",
            data={"photos": []},
        )  # fmt: skip
    if len(groups) == 1:
        await _choose_group(update, context, flow, groups[0])
        return
    rows: Rows = [[(g.title or str(g.chat_id), _data(flow, "g", g.id))] for g in groups[:20]]
    rows.append([_cancel(context, flow)])
    await _show(update, text(context, "ui.lapor.pilih_grup"), keyboard(rows))


async def _show(update: Update, body: str, markup: Any = None) -> None:
    await edit_or_reply(update, body, markup)


async def _choose_group(update: Update, context: BotContext, flow: Flow, group: Group) -> None:
    flow = await _save(context, flow, "kategori", group_id=group.id)
    await _ask_category(update, context, flow)


# -- the screens -------------------------------------------------------------------------------


async def _place_of(context: BotContext, flow: Flow) -> str:
    async with context.services.sessions() as session:
        group = await session.get(Group, int(flow.data.get("group_id", 0)))
        if group is None:
            return ""
        return await reports.place_label(session, group.kelurahan_code, group.rw, group.rt)


async def _ask_category(update: Update, context: BotContext, flow: Flow) -> None:
    rows: Rows = []
    for kind in categories.categories():
        if kind.details:
            rows += [
                [(text(context, kind.detail_label(d)), _data(flow, "k", kind.key, d))]
                for d in kind.details
            ]
        else:
            rows.append([(text(context, kind.label), _data(flow, "k", kind.key))])
    rows.append([_cancel(context, flow)])
    body = text(context, "ui.lapor.pilih_kategori", tempat=await _place_of(context, flow))
    await _show(update, body, keyboard(rows))


def _reply_hint(context: BotContext, flow: Flow) -> str:
    return "\n" + text(context, "ui.lapor.petunjuk_balas") if flow.chat_id < 0 else ""


async def _ask_tps(update: Update, context: BotContext, flow: Flow) -> None:
    rows: Rows = [
        [(text(context, "ui.lapor.tombol_lewati"), _data(flow, "skip")), _cancel(context, flow)]
    ]
    body = text(context, "ui.lapor.tanya_tps") + _reply_hint(context, flow)
    await _show(update, body, keyboard(rows))


async def _ask_description(update: Update, context: BotContext, flow: Flow) -> None:
    rows: Rows = [[_cancel(context, flow)]]
    body = text(context, "ui.lapor.tanya_isi", batas=MAX_DESCRIPTION) + _reply_hint(context, flow)
    await _show(update, body, keyboard(rows))


def _photo_buttons(context: BotContext, flow: Flow) -> Any:
    return keyboard(
        [[(text(context, "ui.lapor.tombol_lanjut"), _data(flow, "next")), _cancel(context, flow)]]
    )


async def _ask_photos(update: Update, context: BotContext, flow: Flow) -> None:
    body = text(context, "ui.lapor.tanya_foto", batas=MAX_PHOTOS) + _reply_hint(context, flow)
    await _show(update, body, _photo_buttons(context, flow))


def _category_label(context: BotContext, key: str, detail: str | None) -> str:
    kind = categories.category(key)
    if kind is None:
        return key
    return text(context, kind.detail_label(detail) if detail else kind.label)


async def _ask_confirm(update: Update, context: BotContext, flow: Flow) -> None:
    data = flow.data
    none = text(context, "ui.lapor.tidak_disebut")
    attached = []
    if data.get("photos"):
        attached.append(text(context, "ui.lapor.lampiran_foto", jumlah=len(data["photos"])))
    if data.get("latitude") is not None:
        attached.append(text(context, "ui.lapor.lampiran_lokasi"))
    body = text(
        context,
        "ui.lapor.ringkasan",
        kategori=_category_label(context, str(data.get("category")), data.get("detail")),
        tempat=await _place_of(context, flow),
        tps=data.get("tps") or none,
        isi=data.get("description") or none,
        lampiran=", ".join(attached) or none,
    )
    rows: Rows = [
        [(text(context, "ui.lapor.tombol_kirim"), _data(flow, "ok")), _cancel(context, flow)]
    ]
    await _show(update, body, keyboard(rows))


_SCREEN = {
    "kategori": _ask_category,
    "tps": _ask_tps,
    "isi": _ask_description,
    "foto": _ask_photos,
    "konfirmasi": _ask_confirm,
}


# -- presses -----------------------------------------------------------------------------------


async def lapor_button(update: Update, context: BotContext) -> None:
    """Every /lapor button."""
    query = update.callback_query
    assert query is not None
    chat = update.effective_chat
    press = await FIELD_REPORT.parse_or_refuse(update, context, valid=chat is not None)
    if press is None or chat is None:
        return
    services = context.services
    presser = query.from_user.id
    async with services.sessions() as session:
        lookup = await flows.find(
            session, KIND, chat.id, presser, press["token"], services.clock.now()
        )
        if lookup.flow is None and _in_group(chat):  # an anonymous admin's flow is the chat's
            anonymous = await flows.find(
                session, KIND, chat.id, ANY_ADMIN, press["token"], services.clock.now()
            )
            if anonymous.flow is not None and await is_admin(context, chat.id, presser):
                lookup = anonymous
    if lookup.found is Found.EXPIRED and lookup.flow is not None:
        await _end(context, lookup.flow)
        await refuse(update, context, "ui.lapor.kedaluwarsa")
        return
    if lookup.flow is None:
        await refuse(update, context, "ui.lapor.tombol_lama")
        return
    flow, step, args = lookup.flow, press["step"], press.args
    if not _fits(flow, step, args):  # a forged step, or a button of an earlier screen
        await refuse(update, context, FIELD_REPORT.unknown)
        return
    await callbacks.answer(query)
    if step == "no":
        await _end(context, flow)
        await _show(update, text(context, "ui.lapor.dibatalkan"))
    elif step == "resume" and flow.step in _SCREEN:
        await _SCREEN[flow.step](update, context, flow)
    elif step in ("new", "resume"):  # resuming the choice of group is choosing it again
        async with services.sessions() as session:
            group = await session.get(Group, int(flow.data.get("group_id", 0) or 0))
            groups = (
                [group] if group is not None and _in_group(chat)
                else await reports.groups_led_by(session, presser)
            )  # fmt: skip
        if not groups:
            await _end(context, flow)
            await _show(update, text(context, "ui.lapor.tidak_ada_grup"))
            return
        await _begin(update, context, chat.id, flow.user_id, groups)
    elif step == "g":
        await _pick_group(update, context, flow, args[0], presser)
    elif step == "k":
        detail = args[1] if len(args) > 1 else None
        flow = await _save(context, flow, "tps", category=args[0], detail=detail)
        await _ask_tps(update, context, flow)
    elif step == "skip":
        flow = await _save(context, flow, "isi", tps=None)
        await _ask_description(update, context, flow)
    elif step == "next":
        flow = await _save(context, flow, "konfirmasi")
        await _ask_confirm(update, context, flow)
    elif step == "ok":
        await _confirm(update, context, flow, presser)


_STEP_OF = {
    "g": ("grup",), "k": ("kategori",), "skip": ("tps",), "next": ("foto",), "ok": ("konfirmasi",),
}  # fmt: skip


def _fits(flow: Flow, step: str, args: tuple[str, ...]) -> bool:
    if step in ("no", "resume", "new"):
        return not args
    if flow.step not in _STEP_OF.get(step, ()):
        return False
    if step == "g":
        return len(args) == 1 and args[0].isascii() and args[0].isdigit()
    if step == "k":
        kind = categories.category(args[0]) if args else None
        if kind is None or len(args) > 2:
            return False
        return (len(args) == 2 and args[1] in kind.details) or (len(args) == 1 and not kind.details)
    return not args


async def _pick_group(
    update: Update, context: BotContext, flow: Flow, value: str, presser: int
) -> None:
    async with context.services.sessions() as session:
        led = {g.id: g for g in await reports.groups_led_by(session, presser)}
    group = led.get(int(value))
    if group is None:  # not (any longer) one of theirs: the choice again
        await refuse(update, context, "ui.lapor.tidak_ada_grup")
        return
    if not await is_admin(context, group.chat_id, presser):
        await _show(update, text(context, "ui.lapor.bukan_admin"))
        await _end(context, flow)
        return
    await _choose_group(update, context, flow, group)


async def _confirm(update: Update, context: BotContext, flow: Flow, presser: int) -> None:
    services = context.services
    now = services.clock.now()
    data = flow.data
    async with services.sessions() as session:
        group = await session.get(Group, int(data.get("group_id", 0) or 0))
    if group is None or not reports.registered(group):
        await _end(context, flow)
        await _show(update, text(context, "ui.lapor.grup_belum_terdaftar"))
        return
    # Admins change: the reporter must still lead the group when the report goes in.
    if not await is_admin(context, group.chat_id, presser):
        await _show(update, text(context, "ui.lapor.bukan_admin"))
        return
    try:
        async with services.sessions.begin() as session:
            opened = await reports.open_report(
                session,
                group_id=group.id,
                reporter_id=presser,
                category=str(data["category"]),
                detail=data.get("detail"),
                description=data.get("description"),
                tps=data.get("tps"),
                photos=list(data.get("photos") or []),
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                source="lapor",
                source_chat_id=flow.chat_id,
                now=now,
            )
            await flows.end(session, KIND, flow.chat_id, flow.user_id)
            joined = await reports.reports_of(session, opened.case_id)
    except ReportRefused as exc:
        await _show(update, text(context, _REFUSAL.get(exc.reason, "ui.lapor.gagal")))
        return
    body = text(context, "ui.lapor.diterima", nomor=opened.report_id)
    if not opened.new_case:
        body += "\n" + text(context, "ui.lapor.digabung", kasus=opened.case_id, jumlah=len(joined))
    await _show(update, body)
    if opened.new_case:
        await schedule_new_case(context.application, opened.case_id)
    else:  # the posko's card now counts one report more
        async with services.sessions() as session:
            view = await case_view(session, opened.case_id)
        if view is not None:
            await redraw_card(context.application, view)
    if opened.posko_chat_id is not None:
        post_soon(context.application, opened.posko_chat_id)


_REFUSAL = {
    Refusal.NOT_REGISTERED: "ui.lapor.grup_belum_terdaftar",
    Refusal.UNKNOWN_GROUP: "ui.lapor.grup_belum_terdaftar",
    Refusal.BAD_TPS: "ui.lapor.tps_salah",
}


# -- typed input, photos, locations ------------------------------------------------------------


async def _typed_tps(update: Update, context: BotContext, flow: Flow, message: Message) -> None:
    try:
        if message.text is None:  # a photo or file while the number is awaited
            raise ReportRefused(Refusal.BAD_TPS)
        number = reports.normalise_tps(message.text)
    except ReportRefused:
        await message.reply_text(text(context, "ui.lapor.tps_salah"))
        return
    flow = await _save(context, flow, "isi", tps=number)
    await _ask_description(update, context, flow)


async def _typed_description(
    update: Update, context: BotContext, flow: Flow, message: Message
) -> None:
    body = (message.text or "").strip()  # a photo or file while a text is awaited: empty
    if not body:
        await message.reply_text(text(context, "ui.lapor.isi_kosong"))
        return
    if len(body) > MAX_DESCRIPTION:
        await message.reply_text(
            text(context, "ui.lapor.isi_terlalu_panjang", panjang=len(body), batas=MAX_DESCRIPTION)
        )
        return  # still awaiting the description: nothing else is lost
    # Kept as written (16-digit numbers masked); never checked by the neutrality guard.
    flow = await _save(context, flow, "foto", description=reports.mask_nik(body))
    await _ask_photos(update, context, flow)


async def _attachment(update: Update, context: BotContext, flow: Flow, message: Message) -> None:
    photos = list(flow.data.get("photos") or [])
    if message.photo:
        if len(photos) >= MAX_PHOTOS:
            body = text(context, "ui.lapor.foto_penuh", batas=MAX_PHOTOS)
        else:
            photos.append(message.photo[-1].file_id)  # the largest size
            flow = await _save(context, flow, "foto", photos=photos)
            body = text(context, "ui.lapor.foto_diterima", jumlah=len(photos))
    elif message.location is not None:
        flow = await _save(
            context, flow, "foto",
            latitude=message.location.latitude, longitude=message.location.longitude,
        )  # fmt: skip
        body = text(context, "ui.lapor.lokasi_diterima")
    elif message.text is not None:
        body = text(context, "ui.lapor.teks_di_langkah_foto")
    else:  # a document, a video, a voice note, a sticker: not a photo
        body = text(context, "ui.lapor.bukan_foto")
    await message.reply_text(body, reply_markup=_photo_buttons(context, flow))


# A message while a report waits for typed input: the TPS number, the description, a photo
# or a location. Not ours (no such flow, another step): left to the next handlers.
TYPED = TypedFlow(
    KIND,
    {"tps": _typed_tps, "isi": _typed_description, "foto": _attachment},
    expired="ui.lapor.kedaluwarsa",
    failed="ui.galat.maaf",
    what="/lapor",
    who=_reporter_key,
)
lapor_typed = TYPED.take


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("lapor", lapor),
        CallbackQueryHandler(lapor_button, pattern=FIELD_REPORT.pattern),
    ]


def typed_input_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """For a group that runs before the others: it consumes a message only when a report
    awaits it. In groups only replies reach the bot (privacy mode), and only replies are read."""
    where = filters.ChatType.PRIVATE | (filters.ChatType.GROUPS & filters.REPLY)
    return [MessageHandler(filters.UpdateType.MESSAGE & where & ~filters.COMMAND, lapor_typed)]
