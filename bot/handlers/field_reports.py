"""/lapor: an RW/RT leader reports a problem from the field, guided with buttons.

In the group (by one of its admins) or in private chat (for a group the bot knows they lead).
Steps, kept in the flow store (kind lapor, the reporter's chat and id; survives a restart):
`grup` (private chat, several groups) → `kategori` → `tps` (typed, or skipped) → `isi` (typed)
→ `foto` (photos and a location, optional) → `konfirmasi` → the receipt. In a group the bot
reads only commands and replies (privacy mode), so typed steps ask for a reply. The screens are
in field_report_screens, the typed steps in field_report_input.

Buttons: callbacks.FIELD_REPORT, `lp:<token>:<step>[:<value>…]`: g <group>, k <category>
[<detail>], skip, next, ok, no, resume, new.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.field_jobs import schedule_new_case
from bot.field_posting import post_soon, redraw_card
from bot.handlers.field_report_input import typed_input_handlers as typed_input_handlers
from bot.handlers.field_report_screens import (
    KIND,
    SCREEN,
    ask_category,
    ask_confirm,
    ask_description,
    ask_tps,
    button_data,
    cancel_button,
    reporter_key,
)
from bot.ui import callbacks
from bot.ui.callbacks import FIELD_REPORT, refuse
from bot.ui.flow_steps import end_flow as end
from bot.ui.flow_steps import save_step as save
from bot.ui.guards import ANY_ADMIN, is_admin, is_group
from bot.ui.views import Rows, edit_or_reply, keyboard, local_time, text
from db.models import Group
from domain import flows
from domain.field import categories, reports
from domain.field.cases import case_view
from domain.field.reports import Refusal, ReportRefused
from domain.flows import Flow, Found
from domain.groups import group_by_chat

# -- starting ----------------------------------------------------------------------------------


async def lapor(update: Update, context: BotContext) -> None:
    """Start a report (or offer to resume the one left half-way)."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    reporter = reporter_key(message)
    if reporter is None:
        return
    services = context.services
    now = services.clock.now()
    if is_group(chat):
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
                (text(context, "ui.lapor.tombol_lanjutkan"), button_data(flow, "resume")),
                (text(context, "ui.lapor.tombol_mulai_baru"), button_data(flow, "new")),
            ],
            [cancel_button(context, flow)],
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
    rows: Rows = [[(g.title or str(g.chat_id), button_data(flow, "g", g.id))] for g in groups[:20]]
    rows.append([cancel_button(context, flow)])
    await edit_or_reply(update, text(context, "ui.lapor.pilih_grup"), keyboard(rows))


async def _choose_group(update: Update, context: BotContext, flow: Flow, group: Group) -> None:
    flow = await save(context, flow, "kategori", group_id=group.id)
    await ask_category(update, context, flow)


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
        if lookup.flow is None and is_group(chat):  # an anonymous admin's flow is the chat's
            anonymous = await flows.find(
                session, KIND, chat.id, ANY_ADMIN, press["token"], services.clock.now()
            )
            if anonymous.flow is not None and await is_admin(context, chat.id, presser):
                lookup = anonymous
    if lookup.found is Found.EXPIRED and lookup.flow is not None:
        await end(context, lookup.flow)
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
        await end(context, flow)
        await edit_or_reply(update, text(context, "ui.lapor.dibatalkan"))
    elif step == "resume" and flow.step in SCREEN:
        await SCREEN[flow.step](update, context, flow)
    elif step in ("new", "resume"):  # resuming the choice of group is choosing it again
        async with services.sessions() as session:
            group = await session.get(Group, int(flow.data.get("group_id", 0) or 0))
            groups = (
                [group] if group is not None and is_group(chat)
                else await reports.groups_led_by(session, presser)
            )  # fmt: skip
        if not groups:
            await end(context, flow)
            await edit_or_reply(update, text(context, "ui.lapor.tidak_ada_grup"))
            return
        await _begin(update, context, chat.id, flow.user_id, groups)
    elif step == "g":
        await _pick_group(update, context, flow, args[0], presser)
    elif step == "k":
        detail = args[1] if len(args) > 1 else None
        flow = await save(context, flow, "tps", category=args[0], detail=detail)
        await ask_tps(update, context, flow)
    elif step == "skip":
        flow = await save(context, flow, "isi", tps=None)
        await ask_description(update, context, flow)
    elif step == "next":
        flow = await save(context, flow, "konfirmasi")
        await ask_confirm(update, context, flow)
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
        await edit_or_reply(update, text(context, "ui.lapor.bukan_admin"))
        await end(context, flow)
        return
    await _choose_group(update, context, flow, group)


async def _confirm(update: Update, context: BotContext, flow: Flow, presser: int) -> None:
    services = context.services
    now = services.clock.now()
    data = flow.data
    async with services.sessions() as session:
        group = await session.get(Group, int(data.get("group_id", 0) or 0))
    if group is None or not reports.registered(group):
        await end(context, flow)
        await edit_or_reply(update, text(context, "ui.lapor.grup_belum_terdaftar"))
        return
    # Admins change: the reporter must still lead the group when the report goes in.
    if not await is_admin(context, group.chat_id, presser):
        await edit_or_reply(update, text(context, "ui.lapor.bukan_admin"))
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
        await edit_or_reply(update, text(context, _REFUSAL.get(exc.reason, "ui.lapor.gagal")))
        return
    body = text(context, "ui.lapor.diterima", nomor=opened.report_id)
    if not opened.new_case:
        body += "\n" + text(context, "ui.lapor.digabung", kasus=opened.case_id, jumlah=len(joined))
    await edit_or_reply(update, body)
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


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("lapor", lapor),
        CallbackQueryHandler(lapor_button, pattern=FIELD_REPORT.pattern),
    ]
