"""Group chats: arriving, /daftar (registration), /status, /berhenti, migration; officials' /grup.

The registration flow keeps its state in the callback data:

    d:<flow>:<user>:<step>[:<args>]

`flow` is a short token kept in chat_data: a new /daftar (or the flow ending) replaces it, so a
button of an older flow changes nothing. `user` is who started it; 0 means "any admin of the
chat" (greetings, and flows started by an anonymous admin, whose presses come from their own
account). Every press is checked with Telegram: only admins change a registration.

Steps: k (kecamatan), c:<kec> (kelurahan), l:<kel> (RW or RT group), w:<kel>:<lvl>:<page>
(RW number; lvl w = RW group, t = RT group), r:<kel>:<rw>:<page> (RT number),
y:<kel>:<rw>:<rt> (confirm; rt 0 = RW group), s:<kel>:<rw>:<rt> (save), keep, stop, x (cancel).
"""

from __future__ import annotations

import html
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from telegram import (
    Chat,
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.handlers.officials import NOT_OFFICIAL, PRIVATE_ONLY
from bot.handlers.residents import (
    NEW_MESSAGES,
    add_to_group_button,
    flood_limited,
    keyboard,
)
from domain import group_report, places, subscriptions
from domain.officials import find_actor
from domain.subscriptions import MAX_NUMBER, Registration
from messages.context import format_day
from messages.render import render

log = logging.getLogger(__name__)

GROUP_ANONYMOUS_BOT_ID = 1087968824
ANY_ADMIN = 0
FLOW_KEY = "daftar_flow"
PAGE = 30  # number buttons per page: 1-30, 31-60, ...

STALE = "Tombol ini dari alur lama dan sudah tidak berlaku. Ketik /daftar untuk mulai lagi."
NOT_YOURS = "Alur ini dimulai admin lain. Ketik /daftar bila Anda ingin mendaftarkan grup."
UNKNOWN_BUTTON = "Tombol ini tidak dikenali. Ketik /daftar untuk mulai lagi."
GROUP_ONLY = "Perintah ini dipakai di grup RT/RW, bukan di chat pribadi."
CANCELLED = "Dibatalkan. Tidak ada yang berubah."


def _render(context: BotContext, key: str) -> str:
    services = context.services
    return render(key, services.profile, services.clock.now())


def _is_group(chat: Chat | None) -> bool:
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def _anonymous_admin(message: Message) -> bool:
    """An anonymous admin writes as the group itself, through GroupAnonymousBot."""
    return (
        message.sender_chat is not None
        and message.sender_chat.id == message.chat.id
        and message.from_user is not None
        and message.from_user.id == GROUP_ANONYMOUS_BOT_ID
    )


async def _is_admin(context: BotContext, chat_id: int, user_id: int) -> bool:
    """Asked of Telegram each time: admins change, and a stale answer would let a wrong one in."""
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.info("getChatMember %s in %s failed: %s", user_id, chat_id, exc)
        return False
    return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


async def _sender_is_admin(message: Message, context: BotContext) -> tuple[bool, int]:
    """Whether the sender may manage the group, and the id their flow is keyed to."""
    if _anonymous_admin(message):
        return True, ANY_ADMIN
    user = message.from_user
    if user is None or user.is_bot:
        return False, 0
    return await _is_admin(context, message.chat.id, user.id), user.id


def _new_flow(context: BotContext) -> str:
    flow = secrets.token_hex(2)
    assert context.chat_data is not None
    context.chat_data[FLOW_KEY] = flow
    return flow


def _end_flow(context: BotContext) -> None:
    if context.chat_data is not None:
        context.chat_data.pop(FLOW_KEY, None)


@dataclass(frozen=True)
class Flow:
    flow: str
    user: int

    def data(self, *parts: object) -> str:
        data = ":".join(["d", self.flow, str(self.user), *(str(p) for p in parts)])
        assert len(data.encode()) <= 64, data
        return data


# -- screens -----------------------------------------------------------------------------------


async def _kecamatan_screen(
    context: BotContext, flow: Flow, chat_id: int, intro: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    async with context.services.sessions() as session:
        kecamatan = await places.kecamatan_list(session)
        status = await subscriptions.group_status(session, chat_id)
    current = ""
    if status is not None and status.subscribed and status.registration is not None:
        current = (
            "\nTerdaftar saat ini: <b>"
            + html.escape(subscriptions.describe(status.registration, status.where))
            + "</b>. Pilihan baru menggantinya setelah Anda menekan Simpan."
        )
    buttons = [(f"Kec. {name}", flow.data("c", code)) for code, name in kecamatan]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([("❌ Batal", flow.data("x"))])
    text = (
        (intro + "\n\n" if intro else "")
        + "🏘️ <b>Daftarkan grup ini</b>\nLangkah 1 dari 4: pilih <b>kecamatan</b>."
        + current
    )
    return text, keyboard(rows)


def _number_rows(flow: Flow, page: int, pick: Any, turn: Any) -> list[list[tuple[str, str]]]:
    """Buttons for numbers of one page (6 a row) and the way to the other pages."""
    first = page * PAGE + 1
    last = min(first + PAGE - 1, MAX_NUMBER)
    buttons = [(str(n), pick(n)) for n in range(first, last + 1)]
    rows = [buttons[i : i + 6] for i in range(0, len(buttons), 6)]
    nav: list[tuple[str, str]] = []
    if page > 0:
        nav.append((f"‹ {first - PAGE}–{first - 1}", turn(page - 1)))
    if last < MAX_NUMBER:
        nav.append((f"Lainnya: {last + 1}–{min(last + PAGE, MAX_NUMBER)} ›", turn(page + 1)))
    if nav:
        rows.append(nav)
    return rows


async def _screen(
    context: BotContext, flow: Flow, chat: Chat, step: str, args: list[str]
) -> tuple[str, InlineKeyboardMarkup]:
    """The text and keyboard of a flow step. ValueError on data that names nothing real."""
    cancel = ("❌ Batal", flow.data("x"))
    if step == "k":
        return await _kecamatan_screen(context, flow, chat.id)
    async with context.services.sessions() as session:
        if step == "c":
            name = await places.kecamatan_name(session, args[0])
            if name is None:
                raise ValueError(args[0])
            kelurahan = await places.kelurahan_in(session, args[0])
            buttons = [(p.name, flow.data("l", p.code)) for p in kelurahan]
            rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
            rows.append([("‹ Kecamatan", flow.data("k")), cancel])
            return (
                f"Kecamatan <b>{html.escape(name)}</b>.\nLangkah 2 dari 4: pilih <b>kelurahan</b>.",
                keyboard(rows),
            )
        where = await places.place(session, args[0])
        if where is None:
            raise ValueError(args[0])
    label = f"Kelurahan <b>{html.escape(where.name)}</b>, Kecamatan {html.escape(where.kecamatan)}"
    if step == "l":
        rows = [
            [("Grup RW", flow.data("w", where.code, "w", 0))],
            [("Grup RT", flow.data("w", where.code, "t", 0))],
            [("‹ Kelurahan", flow.data("c", where.kecamatan_code)), cancel],
        ]
        return (
            f"{label}.\nLangkah 3 dari 4: ini grup <b>RW</b> (seluruh RW) "
            "atau grup <b>RT</b> (satu RT)?",
            keyboard(rows),
        )
    if step == "w":
        level, page = args[1], int(args[2])
        if level not in ("w", "t") or not 0 <= page * PAGE < MAX_NUMBER:
            raise ValueError(args)

        def pick_rw(n: int) -> str:
            return (
                flow.data("y", where.code, n, 0)
                if level == "w"
                else flow.data("r", where.code, n, 0)
            )

        rows = _number_rows(flow, page, pick_rw, lambda p: flow.data("w", where.code, level, p))
        rows.append([("‹ RW/RT", flow.data("l", where.code)), cancel])
        then = "" if level == "w" else ", lalu nomor RT"
        return (
            f"{label}.\nLangkah 4 dari 4: pilih nomor <b>RW</b>{then}.",
            keyboard(rows),
        )
    if step == "r":
        rw, page = int(args[1]), int(args[2])
        if not 1 <= rw <= MAX_NUMBER or not 0 <= page * PAGE < MAX_NUMBER:
            raise ValueError(args)
        rows = _number_rows(
            flow,
            page,
            lambda n: flow.data("y", where.code, rw, n),
            lambda p: flow.data("r", where.code, rw, p),
        )
        rows.append([("‹ RW", flow.data("w", where.code, "t", 0)), cancel])
        return (
            f"RW {rw:02d}, {label}.\nPilih nomor <b>RT</b>.",
            keyboard(rows),
        )
    if step == "y":
        registration = Registration(where.code, int(args[1]), int(args[2]) or None)
        return await _confirm_screen(context, flow, chat, registration)
    raise ValueError(step)


async def _confirm_screen(
    context: BotContext, flow: Flow, chat: Chat, registration: Registration
) -> tuple[str, InlineKeyboardMarkup]:
    """Exactly what will be stored, and what it replaces."""
    async with context.services.sessions() as session:
        where = await places.place(session, registration.kelurahan_code)
        status = await subscriptions.group_status(session, chat.id)
    if where is None:
        raise ValueError(registration.kelurahan_code)
    lines = [
        "📋 <b>Periksa sebelum disimpan</b>",
        f"Grup: {html.escape(chat.title or '')}",
        f"Jenis: grup {registration.level.value.upper()}",
        f"Wilayah: <b>{registration.area}</b>",
        f"Kelurahan: <b>{html.escape(where.name)}</b>",
        f"Kecamatan: {html.escape(where.kecamatan)}",
    ]
    if status is not None and status.subscribed and status.registration is not None:
        if status.registration == registration:
            lines.append("\nSama dengan pendaftaran saat ini.")
        else:
            before = subscriptions.describe(status.registration, status.where)
            lines.append(f"\nMengganti pendaftaran saat ini: {html.escape(before)}.")
    lines.append("\nSudah benar?")
    code, rw, rt = registration.kelurahan_code, registration.rw, registration.rt or 0
    rows = [
        [("✅ Simpan", flow.data("s", code, rw, rt))],
        [("✏️ Ubah", flow.data("k")), ("❌ Batal", flow.data("x"))],
    ]
    return "\n".join(lines), keyboard(rows)


def _registered(context: BotContext, described: str) -> str:
    return f"✅ <b>Grup terdaftar</b> sebagai <b>{html.escape(described)}</b>.\n\n" + _render(
        context, "sistem.grup.terdaftar"
    )


# -- /daftar -----------------------------------------------------------------------------------


async def _refuse_non_admin(message: Message, context: BotContext) -> None:
    await message.reply_text(_render(context, "sistem.bukan_admin"))


async def _ensure_known(chat: Chat, context: BotContext) -> None:
    services = context.services
    async with services.sessions.begin() as session:
        await subscriptions.known_group(
            session, chat.id, chat.title, chat.type, services.clock.now()
        )


@flood_limited
async def daftar(update: Update, context: BotContext) -> None:
    """/daftar in a group (admins): the guided flow, or the one-line form `/daftar rw 5 …`."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    if chat.type == ChatType.PRIVATE:
        await message.reply_text(
            _render(context, "sistem.grup.daftar_di_grup"),
            reply_markup=InlineKeyboardMarkup([[add_to_group_button(context)]]),
        )
        return
    if not _is_group(chat):
        return
    await _start_daftar(message, chat, context, " ".join(context.args or []))


async def _start_daftar(message: Message, chat: Chat, context: BotContext, typed: str) -> None:
    allowed, user_id = await _sender_is_admin(message, context)
    if not allowed:
        await _refuse_non_admin(message, context)
        return
    await _ensure_known(chat, context)
    flow = Flow(_new_flow(context), user_id)
    if not typed.strip():
        text, markup = await _kecamatan_screen(context, flow, chat.id)
        await message.reply_text(text, reply_markup=markup)
        return
    async with context.services.sessions() as session:
        regions = await places.load_regions(session)
    parsed = subscriptions.parse_registration(typed, regions)
    if parsed.registration is not None:
        text, markup = await _confirm_screen(context, flow, chat, parsed.registration)
        await message.reply_text(text, reply_markup=markup)
    elif parsed.candidates and parsed.rw is not None:
        rows = [
            [(m.name, flow.data("y", m.code, parsed.rw, parsed.rt or 0))] for m in parsed.candidates
        ]
        rows.append([("Bukan salah satunya — pilih dari daftar", flow.data("k"))])
        rows.append([("❌ Batal", flow.data("x"))])
        area = places.area_label(parsed.rw, parsed.rt)
        await message.reply_text(
            f"Kelurahan mana yang dimaksud untuk <b>{area}</b>?", reply_markup=keyboard(rows)
        )
    else:
        intro = "⚠️ " + (parsed.error or "Format tidak dikenali.")
        text, markup = await _kecamatan_screen(context, flow, chat.id, intro)
        await message.reply_text(text, reply_markup=markup)


@flood_limited
async def start_in_group(update: Update, context: BotContext) -> None:
    """/start in a group: `/start daftar` comes from the t.me/<bot>?startgroup=daftar link."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or not _is_group(chat):
        return
    assert chat is not None
    if (context.args or [""])[0].lower() == "daftar":
        await _start_daftar(message, chat, context, "")
    else:
        await message.reply_text(_render(context, "sistem.grup.bantuan"))


# -- buttons -----------------------------------------------------------------------------------


def _parse_data(data: str) -> tuple[Flow, str, list[str]] | None:
    parts = data.split(":")
    if len(parts) < 4 or parts[0] != "d" or not parts[2].isdigit():
        return None
    return Flow(parts[1], int(parts[2])), parts[3], parts[4:]


async def daftar_button(update: Update, context: BotContext) -> None:
    """Every d: button. Refusals change nothing and are told in the callback answer."""
    query = update.callback_query
    assert query is not None
    notice: str | None = None
    alert = False
    try:
        notice, alert = await _handle_button(update, context)
    except Exception:
        notice, alert = "Maaf, terjadi kesalahan. Coba lagi dengan /daftar.", True
        raise
    finally:
        try:
            await query.answer(notice, show_alert=alert)
        except TelegramError as exc:
            log.info("answering a d: button failed: %s", exc)


async def _handle_button(update: Update, context: BotContext) -> tuple[str | None, bool]:
    query = update.callback_query
    assert query is not None
    chat = update.effective_chat
    parsed = _parse_data(query.data or "")
    if parsed is None or not _is_group(chat) or not isinstance(query.message, Message):
        return UNKNOWN_BUTTON, True
    assert chat is not None
    flow, step, args = parsed
    current = (context.chat_data or {}).get(FLOW_KEY)
    if current != flow.flow:
        return STALE, True
    user = query.from_user
    if flow.user != ANY_ADMIN and user.id != flow.user:
        return NOT_YOURS, True
    # Whoever started the flow was an admin then; asking Telegram again on every step would
    # spend the group's request budget, so it is asked when the change is made.
    finishing = step in ("s", "keep", "stop")
    if (flow.user == ANY_ADMIN or finishing) and not await _is_admin(context, chat.id, user.id):
        return _render(context, "sistem.bukan_admin"), True
    if finishing or step == "x":
        return await _finish(update, context, flow, step, args, user.id)
    try:
        text, markup = await _screen(context, flow, chat, step, args)
    except (ValueError, IndexError):
        return UNKNOWN_BUTTON, True
    await _edit(query.message, text, markup)
    return None, False


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramError as exc:  # "message is not modified" on a double press
        log.info("editing the flow message failed: %s", exc)


async def _finish(
    update: Update, context: BotContext, flow: Flow, step: str, args: list[str], user_id: int
) -> tuple[str | None, bool]:
    """Save, keep, stop or cancel: the flow ends and its buttons go away."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None and isinstance(query.message, Message)
    services = context.services
    now = services.clock.now()
    if step == "x":
        _end_flow(context)
        await _edit(query.message, CANCELLED, None)
        return None, False
    if step == "s":
        try:
            registration = Registration(args[0], int(args[1]), int(args[2]) or None)
        except (ValueError, IndexError):
            return UNKNOWN_BUTTON, True
        async with services.sessions.begin() as session:
            where = await places.place(session, registration.kelurahan_code)
            if where is None:
                return UNKNOWN_BUTTON, True
            await subscriptions.subscribe(
                session, chat.id, registration, user_id, now, title=chat.title, chat_type=chat.type
            )
        _end_flow(context)
        await _edit(
            query.message, _registered(context, subscriptions.describe(registration, where)), None
        )
        return "Tersimpan.", False
    if step == "keep":
        async with services.sessions.begin() as session:
            kept = await subscriptions.keep_registration(session, chat.id, user_id, now)
            described = await subscriptions.describe_in(session, kept) if kept else ""
        _end_flow(context)
        if kept is None:
            text, markup = await _kecamatan_screen(
                context, Flow(_new_flow(context), flow.user), chat.id
            )
            await _edit(query.message, text, markup)
            return "Pendaftaran lama tidak ada; silakan daftar baru.", True
        await _edit(query.message, _registered(context, described), None)
        return "Tersimpan.", False
    if step == "stop":
        async with services.sessions.begin() as session:
            stopped = await subscriptions.unsubscribe(session, chat.id, user_id, now)
        _end_flow(context)
        text = _render(context, "sistem.grup.berhenti") if stopped else "Grup ini belum terdaftar."
        await _edit(query.message, text, None)
        return None, False
    return UNKNOWN_BUTTON, True


# -- /status, /berhenti -----------------------------------------------------------------------


async def _in_group(update: Update) -> tuple[Message, Chat] | None:
    """The message and its group; in a private chat the sender is told where this works."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return None
    if not _is_group(chat):
        await message.reply_text(GROUP_ONLY)
        return None
    return message, chat


@flood_limited
async def status(update: Update, context: BotContext) -> None:
    """/status: the group's registration, for anyone in the group."""
    found = await _in_group(update)
    if found is None:
        return
    message, chat = found
    async with context.services.sessions() as session:
        state = await subscriptions.group_status(session, chat.id)
    await message.reply_text(_status_text(context, state))


def _status_text(context: BotContext, state: subscriptions.GroupStatus | None) -> str:
    if state is None or state.registration is None:
        return (
            "ℹ️ Grup ini <b>belum terdaftar</b>, jadi belum menerima siaran resmi.\n"
            "Admin grup dapat mendaftarkannya dengan /daftar."
        )
    described = html.escape(subscriptions.describe(state.registration, state.where))
    if not state.subscribed:
        return (
            f"🔕 Grup ini pernah terdaftar sebagai {described}, tetapi <b>tidak sedang "
            "menerima siaran</b>.\nAdmin grup dapat mendaftar lagi dengan /daftar."
        )
    since = ""
    if state.subscribed_at is not None:
        local = state.subscribed_at.astimezone(context.services.profile.tz)
        since = f"\nTerdaftar sejak {format_day(local.date())}."
    return (
        f"✅ Grup ini terdaftar sebagai <b>{described}</b> dan menerima siaran resmi.{since}\n"
        "Admin grup: ubah dengan /daftar, berhenti dengan /berhenti."
    )


@flood_limited
async def berhenti(update: Update, context: BotContext) -> None:
    """/berhenti (admins): stop broadcasts to the group, after confirmation."""
    found = await _in_group(update)
    if found is None:
        return
    message, chat = found
    allowed, user_id = await _sender_is_admin(message, context)
    if not allowed:
        await _refuse_non_admin(message, context)
        return
    async with context.services.sessions() as session:
        state = await subscriptions.group_status(session, chat.id)
    if state is None or not state.subscribed:
        await message.reply_text("Grup ini tidak sedang terdaftar, jadi tidak ada yang dihentikan.")
        return
    flow = Flow(_new_flow(context), user_id)
    described = (
        html.escape(subscriptions.describe(state.registration, state.where))
        if (state.registration)
        else ""
    )
    await message.reply_text(
        f"🔕 Hentikan siaran ke grup ini ({described})?\n"
        "Data pendaftaran tetap disimpan; grup dapat mendaftar lagi dengan /daftar.",
        reply_markup=keyboard(
            [[("🔕 Ya, berhenti", flow.data("stop")), ("Batal", flow.data("x"))]]
        ),
    )


# -- the bot arriving, leaving, and the group becoming a supergroup -----------------------------


def _present(member: ChatMember) -> bool:
    if member.status in (
        ChatMemberStatus.OWNER,
        ChatMemberStatus.ADMINISTRATOR,
        ChatMemberStatus.MEMBER,
    ):
        return True
    return member.status == ChatMemberStatus.RESTRICTED and bool(
        getattr(member, "is_member", False)
    )


async def membership(update: Update, context: BotContext) -> None:
    """my_chat_member: added (greet once, or ask to keep the old registration) or removed."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or not _is_group(change.chat):
        return  # private chats (blocking the bot) and channels are not groups
    chat = change.chat
    was, now_in = _present(change.old_chat_member), _present(change.new_chat_member)
    actor = change.from_user.id if change.from_user else None
    services = context.services
    now = services.clock.now()
    if was and not now_in:
        reason = "kicked" if change.new_chat_member.status == ChatMemberStatus.BANNED else "left"
        async with services.sessions.begin() as session:
            await subscriptions.bot_left(session, chat.id, reason, actor, now)
        _end_flow(context)
        return
    if now_in and not was:
        async with services.sessions.begin() as session:
            arrival = await subscriptions.bot_joined(
                session, chat.id, chat.title, chat.type, actor, now
            )
            described = (
                await subscriptions.describe_in(session, arrival.previous)
                if arrival.previous
                else ""
            )
        flow = Flow(_new_flow(context), ANY_ADMIN)
        if arrival.previous is not None:
            text = (
                _render(context, "sistem.grup.sapaan_kembali")
                + f"\n\nPendaftaran sebelumnya: <b>{html.escape(described)}</b>."
            )
            markup = keyboard([[("✅ Tetap pakai", flow.data("keep")), ("✏️ Ubah", flow.data("k"))]])
        else:
            text = _render(context, "sistem.sapaan_grup")
            markup = keyboard([[("🏘️ Daftarkan grup ini", flow.data("k"))]])
        try:
            await context.bot.send_message(chat.id, text, reply_markup=markup)
        except TelegramError as exc:  # e.g. added without the right to send messages
            log.info("could not greet %s: %s", chat.id, exc)


async def migrated(update: Update, context: BotContext) -> None:
    """A group upgraded to a supergroup: both service messages lead to the same single move."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    user = message.from_user
    actor = user.id if user is not None and user.id != GROUP_ANONYMOUS_BOT_ID else None
    services = context.services
    async with services.sessions.begin() as session:
        await subscriptions.migrate(session, old, new, actor, services.clock.now())


# -- /grup (officials, private) ------------------------------------------------------------------


@flood_limited
async def grup(update: Update, context: BotContext) -> None:
    """/grup: registered groups per kecamatan and kelurahan; /grup <kelurahan>: its groups."""
    message = update.effective_message
    user = update.effective_user
    chat = update.effective_chat
    if message is None or user is None or chat is None:
        return
    if chat.type != ChatType.PRIVATE:
        await message.reply_text(PRIVATE_ONLY)
        return
    async with context.services.sessions() as session:
        actor = await find_actor(session, user.id)
        if actor is None:
            await message.reply_text(NOT_OFFICIAL)
            return
        scope = actor.kecamatan_code
        if context.args:
            text = await group_report.kelurahan_text(session, " ".join(context.args), scope)
        else:
            text = await group_report.coverage_text(session, scope)
    await message.reply_text(text)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    in_groups = filters.ChatType.GROUPS & NEW_MESSAGES
    return [
        ChatMemberHandler(membership, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, migrated),
        CommandHandler("daftar", daftar, filters=NEW_MESSAGES),
        CommandHandler("status", status, filters=NEW_MESSAGES),
        CommandHandler("berhenti", berhenti, filters=NEW_MESSAGES),
        CommandHandler("grup", grup, filters=NEW_MESSAGES),
        # Before the residents' private /start: this one only answers in groups.
        CommandHandler("start", start_in_group, filters=in_groups),
        CallbackQueryHandler(daftar_button, pattern=r"^d:"),
    ]
