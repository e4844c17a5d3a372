"""/lapor's screens: the report in the flow store and each step's question (category, TPS,
description, photos, the summary to confirm). bot/handlers/field_reports.py holds the command,
the button dispatcher and the receipt; bot/handlers/field_report_input.py the typed steps.
"""

from __future__ import annotations

from typing import Any

from telegram import Message, Update

from bot.context import BotContext
from bot.ui.callbacks import FIELD_REPORT
from bot.ui.guards import ANY_ADMIN, anonymous_admin
from bot.ui.views import Rows, edit_or_reply, keyboard, text
from db.models import Group
from domain.field import categories, reports
from domain.field.reports import MAX_DESCRIPTION, MAX_PHOTOS
from domain.flows import Flow, FlowKind

KIND = FlowKind.FIELD_REPORT


def button_data(flow: Flow, *parts: object) -> str:
    return FIELD_REPORT.build(flow.token, *parts)


def cancel_button(context: BotContext, flow: Flow) -> tuple[str, str]:
    return (text(context, "ui.tombol.batal"), button_data(flow, "no"))


def reporter_key(message: Message) -> int | None:
    """Whose flow a message continues: the sender, ANY_ADMIN for an anonymous admin."""
    if anonymous_admin(message):
        return ANY_ADMIN
    return message.from_user.id if message.from_user is not None else None


# -- the questions -----------------------------------------------------------------------------


async def place_of(context: BotContext, flow: Flow) -> str:
    async with context.services.sessions() as session:
        group = await session.get(Group, int(flow.data.get("group_id", 0)))
        if group is None:
            return ""
        return await reports.place_label(session, group.kelurahan_code, group.rw, group.rt)


async def ask_category(update: Update, context: BotContext, flow: Flow) -> None:
    rows: Rows = []
    for kind in categories.categories():
        if kind.details:
            rows += [
                [(text(context, kind.detail_label(d)), button_data(flow, "k", kind.key, d))]
                for d in kind.details
            ]
        else:
            rows.append([(text(context, kind.label), button_data(flow, "k", kind.key))])
    rows.append([cancel_button(context, flow)])
    body = text(context, "ui.lapor.pilih_kategori", tempat=await place_of(context, flow))
    await edit_or_reply(update, body, keyboard(rows))


def _reply_hint(context: BotContext, flow: Flow) -> str:
    return "\n" + text(context, "ui.lapor.petunjuk_balas") if flow.chat_id < 0 else ""


async def ask_tps(update: Update, context: BotContext, flow: Flow) -> None:
    rows: Rows = [
        [
            (text(context, "ui.lapor.tombol_lewati"), button_data(flow, "skip")),
            cancel_button(context, flow),
        ]
    ]
    body = text(context, "ui.lapor.tanya_tps") + _reply_hint(context, flow)
    await edit_or_reply(update, body, keyboard(rows))


async def ask_description(update: Update, context: BotContext, flow: Flow) -> None:
    rows: Rows = [[cancel_button(context, flow)]]
    body = text(context, "ui.lapor.tanya_isi", batas=MAX_DESCRIPTION) + _reply_hint(context, flow)
    await edit_or_reply(update, body, keyboard(rows))


def photo_buttons(context: BotContext, flow: Flow) -> Any:
    return keyboard(
        [
            [
                (text(context, "ui.lapor.tombol_lanjut"), button_data(flow, "next")),
                cancel_button(context, flow),
            ]
        ]
    )


async def ask_photos(update: Update, context: BotContext, flow: Flow) -> None:
    body = text(context, "ui.lapor.tanya_foto", batas=MAX_PHOTOS) + _reply_hint(context, flow)
    await edit_or_reply(update, body, photo_buttons(context, flow))


def _category_label(context: BotContext, key: str, detail: str | None) -> str:
    kind = categories.category(key)
    if kind is None:
        return key
    return text(context, kind.detail_label(detail) if detail else kind.label)


async def ask_confirm(update: Update, context: BotContext, flow: Flow) -> None:
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
        tempat=await place_of(context, flow),
        tps=data.get("tps") or none,
        isi=data.get("description") or none,
        lampiran=", ".join(attached) or none,
    )
    rows: Rows = [
        [
            (text(context, "ui.lapor.tombol_kirim"), button_data(flow, "ok")),
            cancel_button(context, flow),
        ]
    ]
    await edit_or_reply(update, body, keyboard(rows))


SCREEN = {
    "kategori": ask_category,
    "tps": ask_tps,
    "isi": ask_description,
    "foto": ask_photos,
    "konfirmasi": ask_confirm,
}
