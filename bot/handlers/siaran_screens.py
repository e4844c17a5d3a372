"""/siaran's screens: the draft in the flow store and each step's screen (the message or text
to repeat, the audience, the time, the preview with its options: "Wajibkan konfirmasi" asks
groups to acknowledge, with the profile's escalation chain). bot/handlers/siaran.py holds the
commands, the button dispatcher and typed input; the callback data of every screen is
callbacks.BROADCAST_DRAFT (`s:<token>:<step>[:<value>]`).
"""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.ui.callbacks import BROADCAST_DRAFT
from bot.ui.flow_steps import end_flow as end
from bot.ui.flow_steps import save_step as save
from bot.ui.views import Button, Rows, Safe, edit_or_reply, in_rows, keyboard, local_time, text
from domain import places, repeats
from domain.broadcasts import Draft, DraftRefused, preview
from domain.escalation import chain_text
from domain.flows import Flow, FlowKind
from domain.officials import Actor, PermissionDenied
from domain.reach import reach, reach_line
from messages.library import Audience as MessageAudience
from messages.library import default_library
from scheduler.audience import Audience, AudienceError

KIND = FlowKind.BROADCAST
# Library messages that are not broadcasts themselves: the bot's own replies and buttons.
NOT_BROADCASTS = ("sistem.", "ui.")


def broadcastable() -> list[tuple[str, str]]:
    """(key, title) of every library message an official may send to groups."""
    return [
        (m.key, m.title)
        for m in default_library().messages.values()
        if m.audience in (MessageAudience.ALL_GROUPS, MessageAudience.RW_RT_GROUPS)
        and not m.key.startswith(NOT_BROADCASTS)
    ]


def data(flow: Flow, *parts: object) -> str:
    return BROADCAST_DRAFT.build(flow.token, *parts)


def cancel_button(context: BotContext, flow: Flow) -> tuple[str, str]:
    return (text(context, "ui.tombol.batal"), data(flow, "no"))


def draft_of(flow: Flow) -> Draft:
    """The draft as the domain takes it; only once audience and time are chosen."""
    return Draft(
        audience=str(flow.data["audience"]),
        scheduled_at=datetime.fromisoformat(str(flow.data["when"])),
        message_key=flow.data.get("message_key"),
        text=flow.data.get("text"),
        ack=bool(flow.data.get("ack", False)),
    )


# -- ulangi: an earlier broadcast's content again ------------------------------------------------


async def ask_repeat(update: Update, context: BotContext, flow: Flow, actor: Actor) -> None:
    services = context.services
    async with services.sessions() as session:
        sources = await repeats.repeatable(session, actor, services.clock.now())
    if not sources:
        await end(context, flow)
        await edit_or_reply(update, text(context, "siaran_ulangi.kosong"))
        return
    own = text(context, "siaran_ulangi.teks_sendiri")
    rows: Rows = []
    for source in sources:
        title = source.message_key or own
        if source.agenda:
            title = f"{source.agenda}: {title}"
        label = text(
            context,
            "siaran_ulangi.tombol_baris",
            nomor=source.id,
            waktu=f"{source.scheduled_at.astimezone(services.profile.tz):%d/%m %H.%M}",
            judul=title[:34],
        )
        rows.append([(label, data(flow, "r", source.id))])
    rows.append([cancel_button(context, flow)])
    await edit_or_reply(update, text(context, "siaran_ulangi.pilih"), keyboard(rows))


async def take_repeat(
    update: Update, context: BotContext, flow: Flow, actor: Actor, broadcast_id: int
) -> None:
    """The chosen broadcast's content goes into the draft; then its audience or a narrower one."""
    try:
        async with context.services.sessions() as session:
            source = await repeats.repeat_source(session, actor, broadcast_id)
    except DraftRefused as exc:
        await end(context, flow)
        await edit_or_reply(update, text(context, "ui.alasan", alasan=str(exc)))
        return
    flow = await save(
        context,
        flow,
        "audience",
        repeat_of=source.id,
        repeat_audience=source.audience,
        message_key=None if source.text is not None else source.message_key,
        text=source.text,
    )
    await ask_audience(update, context, flow, actor)


def offered(flow: Flow, spec: str) -> str | None:
    """The audience a button offers: as it is for a new draft; for a repeat only the original
    or narrower ones (with the original's RW/RT level), else None (no button)."""
    original = flow.data.get("repeat_audience")
    if original is None:
        return spec
    try:
        wider = Audience.parse(str(original))
        if wider.level is not None and "/" not in spec and spec not in ("rw", "rt"):
            spec = f"{spec}/{wider.level.value}"
        return spec if Audience.parse(spec).narrows(wider) else None
    except AudienceError:  # forged data
        return None


async def ask_audience(update: Update, context: BotContext, flow: Flow, actor: Actor) -> None:
    async with context.services.sessions() as session:
        kecamatan = await places.kecamatan_list(session)
        original = flow.data.get("repeat_audience")
        label = await Audience.parse(str(original)).describe(session) if original else ""
    rows: Rows = []
    shown_specs: set[str] = set()

    def offer(label_key: str, spec: str) -> tuple[str, str] | None:
        shown = offered(flow, spec)
        if shown is None or shown in shown_specs:
            return None
        shown_specs.add(shown)
        return (text(context, label_key), data(flow, "a", *shown.split(":")))

    if original is not None:
        same = data(flow, "a", *str(original).split(":"))
        rows.append([(text(context, "siaran_ulangi.tombol_sama"), same)])
        shown_specs.add(str(original))
    if actor.citywide:
        for line in (
            [("ui.siaran.tombol_semua_grup", "all")],
            [("ui.siaran.tombol_grup_rw", "rw"), ("ui.siaran.tombol_grup_rt", "rt")],
        ):
            buttons: list[Button] = [b for key, spec in line if (b := offer(key, spec)) is not None]
            if buttons:
                rows.append(buttons)
    rows += [
        [(text(context, "ui.tempat.kecamatan", nama=name), data(flow, "k", code))]
        for code, name in kecamatan
        if (actor.citywide or code == actor.kecamatan_code)
        and (offered(flow, f"kecamatan:{code}") or kelurahan_offered(flow, code))
    ]
    rows.append([cancel_button(context, flow)])
    if original is not None:
        question = text(
            context, "siaran_ulangi.sasaran", nomor=flow.data["repeat_of"], sasaran=label
        )
    else:
        question = text(context, "ui.siaran.kirim_ke")
    await edit_or_reply(update, question, keyboard(rows))


def kelurahan_offered(flow: Flow, kecamatan_code: str) -> bool:
    """For a repeat to one kelurahan: its kecamatan's button leads there."""
    original = flow.data.get("repeat_audience")
    if original is None:
        return True
    code = Audience.parse(str(original)).kelurahan_code
    return code is not None and code.startswith(kecamatan_code + ".")


async def ask_kelurahan(
    update: Update, context: BotContext, flow: Flow, code: str, actor: Actor
) -> None:
    async with context.services.sessions() as session:
        name = await places.kecamatan_name(session, code)
        kelurahan = await places.kelurahan_in(session, code)
    if name is None:  # a forged code: the audience screen again
        await ask_audience(update, context, flow, actor)
        return
    rows: Rows = []
    whole = offered(flow, f"kecamatan:{code}")
    if actor.kelurahan_code is not None:  # a lurah's staff: their kelurahan only
        whole = None
        kelurahan = [k for k in kelurahan if k.code == actor.kelurahan_code]
    if whole is not None:
        label = text(context, "ui.siaran.tombol_seluruh_kecamatan", nama=name)
        rows.append([(label, data(flow, "a", *whole.split(":")))])
    parts = [(k.name, offered(flow, f"kelurahan:{k.code}")) for k in kelurahan]
    rows += in_rows([(name, data(flow, "a", *spec.split(":"))) for name, spec in parts if spec], 2)
    rows.append([cancel_button(context, flow)])
    await edit_or_reply(
        update, text(context, "ui.siaran.satu_kelurahan", kecamatan=name), keyboard(rows)
    )


async def ask_time(update: Update, context: BotContext, flow: Flow) -> None:
    rows: Rows = [
        [(text(context, "ui.siaran.tombol_sekarang"), data(flow, "t", "now"))],
        [(text(context, "ui.siaran.tombol_tulis_waktu"), data(flow, "t", "ask"))],
        [cancel_button(context, flow)],
    ]
    await edit_or_reply(update, text(context, "ui.siaran.kapan"), keyboard(rows))


async def show_preview(update: Update, context: BotContext, flow: Flow, actor: Actor) -> None:
    """The exact message groups will get, then the summary with the buttons."""
    shown = await _summary(update, context, flow, actor)
    if shown is not None:
        exact, summary, markup = shown
        # The exact message groups will get (without the acknowledgement button).
        await context.bot.send_message(flow.chat_id, exact)
        await context.bot.send_message(flow.chat_id, summary, reply_markup=markup)


async def toggle_ack(
    update: Update, context: BotContext, flow: Flow, actor: Actor, on: bool
) -> None:
    """The preview's "Wajibkan konfirmasi" option: the summary changes in place."""
    flow = await save(context, flow, "confirm", ack=on)
    shown = await _summary(update, context, flow, actor)
    if shown is not None:
        await edit_or_reply(update, shown[1], shown[2])


async def _summary(
    update: Update, context: BotContext, flow: Flow, actor: Actor
) -> tuple[str, str, InlineKeyboardMarkup] | None:
    """The exact message, the summary (audience, count, reach, time, what it needs) and its
    buttons; None (after saying why) when the draft can no longer go out."""
    services = context.services
    draft = draft_of(flow)
    try:
        async with services.sessions() as session:
            shown = await preview(session, actor, draft, services.profile, services.clock.now())
            # What the latest pre-flight says about those groups (issue 15: reach before send).
            reach_of = await reach(session, Audience.parse(draft.audience))
    except (DraftRefused, PermissionDenied) as exc:
        await edit_or_reply(update, text(context, "ui.alasan", alasan=str(exc)))
        return None
    parts = [
        text(
            context,
            "ui.siaran.pratinjau",
            sasaran=shown.audience_label,
            jumlah=shown.recipients,
            waktu=local_time(context, draft.scheduled_at),
        )
    ]
    parts.append(reach_line(reach_of, services.profile, services.clock.now()))
    if flow.data.get("repeat_of") is not None:
        parts.append(text(context, "siaran_ulangi.asal", nomor=flow.data["repeat_of"]))
    if draft.ack:
        parts.append(ack_line(context))
    if shown.needs_approval:
        parts.append(text(context, "ui.siaran.perlu_persetujuan", alasan=shown.approval_reason))
    parts.append(text(context, "ui.siaran.kirim_tanya"))
    label = "ui.siaran.tombol_ajukan" if shown.needs_approval else "ui.siaran.tombol_kirim"
    rows: Rows = [[(text(context, label), data(flow, "ok")), cancel_button(context, flow)]]
    if services.profile.acknowledgement.chain:  # groups asked to acknowledge, with the chain
        key, value = (
            ("ui.siaran_eskalasi.tombol_lepas", "off")
            if draft.ack
            else ("ui.siaran_eskalasi.tombol_minta", "on")
        )
        rows.insert(1, [(text(context, key), data(flow, "e", value))])
    if flow.data.get("repeat_of") is not None and actor.is_admin and actor.citywide:
        # Or every week / month until a date: loaded as an agenda (domain.repeats.Series).
        rows.insert(
            1,
            [
                (text(context, "siaran_ulangi.tombol_mingguan"), data(flow, "w", "minggu")),
                (text(context, "siaran_ulangi.tombol_bulanan"), data(flow, "w", "bulan")),
            ],
        )
    return shown.html, "\n".join(parts), keyboard(rows)


def ack_line(context: BotContext) -> str:
    """'Wajib konfirmasi: pengingat di grup (+60 menit), …' from the profile's chain."""
    services = context.services
    chain = chain_text(services.profile, services.clock.now())
    return text(context, "ui.siaran_eskalasi.wajib", rantai=Safe(chain))
