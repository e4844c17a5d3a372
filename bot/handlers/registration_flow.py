"""The registration flow's state and screens: the group's flow in the flow store, its buttons'
callback data, and what each step shows (kecamatan → kelurahan → RW or RT group → number →
confirm). bot.handlers.registration runs it; the greeting and /berhenti open it too.

Buttons: callbacks.REGISTRATION, `d:<token>:<step>[:<args>]`. Steps: k (kecamatan),
c <kec> (kelurahan), l <kel> (RW or RT group), w <kel> <lvl> <page> (RW number; lvl w = RW
group, t = RT group), r <kel> <rw> <page> (RT number), y <kel> <rw> <rt> (confirm; rt 0 = RW
group), s <kel> <rw> <rt> (save), keep, stop, x (cancel).
"""

from __future__ import annotations

from telegram import Chat, InlineKeyboardMarkup

from bot.context import BotContext
from bot.ui import place_picker
from bot.ui.callbacks import REGISTRATION
from bot.ui.views import keyboard, text
from domain import flows, subscriptions
from domain.flows import CHAT_FLOW, Flow, FlowKind
from domain.subscriptions import MAX_NUMBER, Registration


async def open_flow(context: BotContext, chat_id: int, owner: int, step: str = "k") -> Flow:
    """A new registration flow for the group, replacing the one before."""
    services = context.services
    async with services.sessions.begin() as session:
        return await flows.start(
            session,
            FlowKind.REGISTRATION,
            chat_id,
            CHAT_FLOW,
            services.clock.now(),
            step=step,
            data={"owner": owner},
        )


async def close_flow(context: BotContext, chat_id: int) -> None:
    async with context.services.sessions.begin() as session:
        await flows.end(session, FlowKind.REGISTRATION, chat_id, CHAT_FLOW)


def data(flow: Flow, *parts: object) -> str:
    return REGISTRATION.build(flow.token, *parts)


def cancel_button(context: BotContext, flow: Flow) -> tuple[str, str]:
    return (text(context, "ui.tombol.batal"), data(flow, "x"))


# -- screens -----------------------------------------------------------------------------------


async def kecamatan_screen(
    context: BotContext, flow: Flow, chat_id: int, intro: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    async with context.services.sessions() as session:
        rows = await place_picker.kecamatan_rows(context, session, lambda c: data(flow, "c", c))
        status = await subscriptions.group_status(session, chat_id)
    parts = [intro] if intro else []
    body = text(context, "ui.daftar.langkah_kecamatan")
    if status is not None and status.subscribed and status.registration is not None:
        now = subscriptions.describe(status.registration, status.where)
        body += "\n" + text(context, "ui.daftar.terdaftar_saat_ini", wilayah=now)
    rows.append([cancel_button(context, flow)])
    return "\n\n".join([*parts, body]), keyboard(rows)


async def screen(
    context: BotContext, flow: Flow, chat: Chat, step: str, args: tuple[str, ...]
) -> tuple[str, InlineKeyboardMarkup]:
    """The text and keyboard of a flow step. ValueError on data that names nothing real."""
    if step == "k":
        return await kecamatan_screen(context, flow, chat.id)
    cancel = cancel_button(context, flow)
    async with context.services.sessions() as session:
        if step == "c":
            name, rows = await place_picker.kelurahan_rows(
                session, args[0], lambda code: data(flow, "l", code)
            )
            rows.append([(text(context, "ui.tombol.kembali_kecamatan"), data(flow, "k")), cancel])
            return text(context, "ui.daftar.langkah_kelurahan", kecamatan=name), keyboard(rows)
        where = await place_picker.kelurahan(session, args[0])
    place = {"kelurahan": where.name, "kecamatan": where.kecamatan}
    if step == "l":
        rows = [
            [(text(context, "ui.daftar.tombol_grup_rw"), data(flow, "w", where.code, "w", 0))],
            [(text(context, "ui.daftar.tombol_grup_rt"), data(flow, "w", where.code, "t", 0))],
            [
                (
                    text(context, "ui.tombol.kembali_kelurahan"),
                    data(flow, "c", where.kecamatan_code),
                ),
                cancel,
            ],
        ]
        return text(context, "ui.daftar.langkah_jenis", **place), keyboard(rows)
    if step == "w":
        level, page = args[1], place_picker.number_arg(args[2])
        if level not in ("w", "t"):
            raise ValueError(level)
        then = "y" if level == "w" else "r"
        rows = place_picker.number_page(
            context,
            page,
            lambda n: data(flow, then, where.code, n, 0),
            lambda p: data(flow, "w", where.code, level, p),
        )
        rows.append(
            [(text(context, "ui.tombol.kembali_rw_rt"), data(flow, "l", where.code)), cancel]
        )
        key = "ui.daftar.langkah_rw" if level == "w" else "ui.daftar.langkah_rw_lalu_rt"
        return text(context, key, **place), keyboard(rows)
    if step == "r":
        rw, page = place_picker.number_arg(args[1]), place_picker.number_arg(args[2])
        if not 1 <= rw <= MAX_NUMBER:
            raise ValueError(rw)
        rows = place_picker.number_page(
            context,
            page,
            lambda n: data(flow, "y", where.code, rw, n),
            lambda p: data(flow, "r", where.code, rw, p),
        )
        rows.append(
            [(text(context, "ui.tombol.kembali_rw"), data(flow, "w", where.code, "t", 0)), cancel]
        )
        return text(context, "ui.daftar.langkah_rt", rw=f"{rw:02d}", **place), keyboard(rows)
    if step == "y":
        registration = Registration(
            where.code, place_picker.number_arg(args[1]), place_picker.number_arg(args[2]) or None
        )
        return await confirm_screen(context, flow, chat, registration)
    raise ValueError(step)


async def confirm_screen(
    context: BotContext, flow: Flow, chat: Chat, registration: Registration
) -> tuple[str, InlineKeyboardMarkup]:
    """Exactly what will be stored, and what it replaces."""
    async with context.services.sessions() as session:
        where = await place_picker.kelurahan(session, registration.kelurahan_code)
        status = await subscriptions.group_status(session, chat.id)
    parts = [
        text(
            context,
            "ui.daftar.periksa",
            grup=chat.title or "",
            jenis=registration.level.value.upper(),
            wilayah=registration.area,
            kelurahan=where.name,
            kecamatan=where.kecamatan,
        )
    ]
    if status is not None and status.subscribed and status.registration is not None:
        if status.registration == registration:
            parts.append(text(context, "ui.daftar.sama_dengan_saat_ini"))
        else:
            before = subscriptions.describe(status.registration, status.where)
            parts.append(text(context, "ui.daftar.mengganti", sebelumnya=before))
    parts.append(text(context, "ui.daftar.sudah_benar"))
    code, rw, rt = registration.kelurahan_code, registration.rw, registration.rt or 0
    rows = [
        [(text(context, "ui.tombol.simpan"), data(flow, "s", code, rw, rt))],
        [(text(context, "ui.tombol.ubah"), data(flow, "k")), cancel_button(context, flow)],
    ]
    return "\n\n".join(parts), keyboard(rows)


def registered(context: BotContext, described: str) -> str:
    return (
        text(context, "ui.daftar.terdaftar", wilayah=described)
        + "\n\n"
        + text(context, "sistem.grup.terdaftar")
    )
