"""Every kind of callback data the bot puts on a button, declared once.

A kind is a prefix and named fields, joined with ":" (`d:1a2b3c:c:35.73.05`). `build` checks
each field against its pattern and the whole against Telegram's 64 bytes; `parse` gives the
fields back or None for data the kind never builds. A new feature adds a kind here (a prefix
nobody uses; the registry refuses a second one) and passes `kind.pattern` to its handler.

Every press gets an answer: a handler answers what it understands, `refuse` answers presses
that are malformed, stale or forged, and `unknown_press` (registered last) answers data no kind
claims. None of them ever posts into the chat. A handler starts with `KIND.parse_or_refuse`:
the fields of its press, or the press already refused.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from telegram import Bot, CallbackQuery, Update
from telegram.error import TelegramError

from bot.context import BotContext
from bot.ui.views import text

log = logging.getLogger(__name__)

MAX_BYTES = 64  # Telegram's limit on callback_data
ANSWER_LIMIT = 200  # Telegram's limit on an answerCallbackQuery text


class CallbackDataError(ValueError):
    """Data the code tried to build that its kind does not allow: a bug, not a user's doing."""


@dataclass(frozen=True)
class Field:
    name: str
    pattern: str  # a regular expression the whole field must match

    def check(self, value: str) -> bool:
        return re.fullmatch(self.pattern, value) is not None


@dataclass(frozen=True)
class Press:
    """Parsed callback data: the declared fields by name, then any free arguments."""

    kind: CallbackKind
    fields: dict[str, str]
    args: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> str:
        return self.fields[name]

    def number(self, name: str) -> int:
        return int(self.fields[name])


@dataclass(frozen=True)
class CallbackKind:
    """One family of buttons. `rest`: free arguments may follow the fields (each ≤ 30 chars,
    no ":"), checked by the handler that reads them."""

    prefix: str
    fields: tuple[Field, ...]
    rest: bool = False
    # Library key of the answer to a press of this kind that cannot be understood.
    unknown: str = "ui.tombol.tidak_dikenali"

    @property
    def pattern(self) -> str:
        """For CallbackQueryHandler(pattern=…): this kind's presses and no other's."""
        return f"^{re.escape(self.prefix)}:"

    def build(self, *values: object) -> str:
        parts = [str(v) for v in values]
        if len(parts) < len(self.fields) or (len(parts) > len(self.fields) and not self.rest):
            raise CallbackDataError(f"{self.prefix}: {len(parts)} values for {self.fields}")
        for spec, value in zip(self.fields, parts, strict=False):
            if not spec.check(value):
                raise CallbackDataError(f"{self.prefix}: {spec.name}={value!r}")
        for value in parts[len(self.fields) :]:
            if not re.fullmatch(r"[^:]{1,30}", value):
                raise CallbackDataError(f"{self.prefix}: argument {value!r}")
        data = ":".join([self.prefix, *parts])
        if len(data.encode()) > MAX_BYTES:
            raise CallbackDataError(f"{data!r} is over {MAX_BYTES} bytes")
        return data

    def parse(self, data: str | None) -> Press | None:
        if not data or len(data.encode()) > MAX_BYTES:
            return None
        head, _, body = data.partition(":")
        if head != self.prefix or not body:
            return None
        parts = body.split(":")
        if len(parts) < len(self.fields) or (len(parts) > len(self.fields) and not self.rest):
            return None
        values = dict(zip((f.name for f in self.fields), parts, strict=False))
        if not all(spec.check(values[spec.name]) for spec in self.fields):
            return None
        return Press(self, values, tuple(parts[len(self.fields) :]))

    async def parse_or_refuse(
        self, update: Update, context: BotContext, *, valid: bool = True, alert: bool = True
    ) -> Press | None:
        """A handler's first line: the press's fields, or None once the press is answered with
        this kind's `unknown` text. `valid` false (no chat, not a group: what the handler cannot
        take) refuses a well-formed press the same way."""
        query = update.callback_query
        press = self.parse(query.data if query is not None else None)
        if press is None or not valid:
            await refuse(update, context, self.unknown, alert=alert)
            return None
        return press


_REGISTRY: dict[str, CallbackKind] = {}


def kind(
    prefix: str, *fields: tuple[str, str], rest: bool = False, unknown: str = ""
) -> CallbackKind:
    if prefix in _REGISTRY or not re.fullmatch(r"[a-z]{1,3}", prefix):
        raise CallbackDataError(f"callback prefix {prefix!r} is taken or not 1-3 letters")
    declared = CallbackKind(
        prefix,
        tuple(Field(name, pattern) for name, pattern in fields),
        rest=rest,
        unknown=unknown or "ui.tombol.tidak_dikenali",
    )
    _REGISTRY[prefix] = declared
    return declared


def kinds() -> list[CallbackKind]:
    return list(_REGISTRY.values())


TOKEN = ("token", r"[0-9a-f]{6}")
BROADCAST_ID = ("broadcast", r"[0-9]{1,18}")  # ASCII digits only: "٣" is not an id
STEP = ("step", r"[a-z!]{1,8}")

# "✅ Sudah dibaca" under a broadcast. The scheduler builds it (scheduler.engine.
# ack_callback_data, same format): the message and chat it sits on identify the delivery.
ACK = kind("ack", BROADCAST_ID, unknown="ui.tombol.bukan_untuk_pesan_ini")
# /daftar, the greeting's buttons and /berhenti's confirmation: one flow per group.
REGISTRATION = kind("d", TOKEN, STEP, rest=True, unknown="ui.daftar.tombol_tidak_dikenali")
# /siaran: an official's broadcast draft.
BROADCAST_DRAFT = kind("s", TOKEN, STEP, rest=True, unknown="ui.siaran.tombol_tidak_dikenali")
# Approving or rejecting a broadcast that waits for a second official.
APPROVAL = kind("p", ("verb", r"ok|no"), BROADCAST_ID)
# The residents' /start menu: one topic each.
MENU = kind("r", ("intent", r"[a-z_]{1,30}"), unknown="ui.tombol.menu_tidak_dikenali")
# The TPS lookup (private chats): the place picker's steps, then the result.
TPS_LOOKUP = kind("t", STEP, rest=True, unknown="ui.tombol.menu_tidak_dikenali")
# Officials' reports: l:r:<id> report, l:d list, l:b:<id> not acknowledged, l:n[!]:<id> nudge.
REPORT = kind("l", STEP, rest=True, unknown="ui.laporan.tombol_tidak_berlaku")
# /agenda: ag:<action>:<agenda name>, action p pause, r resume, v preview, a approve a loaded
# file. The name is an agenda file's (scheduler.agenda_file: up to 48 characters).
AGENDA = kind("ag", ("action", r"[prva]"), ("name", r"[a-z0-9][a-z0-9-]{1,46}[a-z0-9]"))
# /hapusdata: confirm or cancel erasing what the bot holds about the presser.
ERASE = kind("hd", ("answer", r"ya|batal"))
# Residents' questions: q:f:<id> forward a draft, q:c:<id>:<kecamatan> and q:l:<id>:<kelurahan
# or -> pick where from; q:a:<id> an official answers it.
QUESTION = kind(
    "q",
    ("step", r"[fcla]"),
    ("question", r"[0-9]{1,18}"),
    rest=True,
    unknown="pertanyaan.tombol_tidak_dikenali",
)
# /topik: tp:<topic>, a group admin switches an optional topic on or off.
TOPIC = kind("tp", ("topic", r"[a-z_]{1,20}"))
# /jadwal's pages: jd:<page>, the schedule is paged instead of cut.
SCHEDULE_PAGE = kind("jd", ("page", r"[0-9]{1,5}"))
# /lapor: lp:<token>:<step>[:<value>…], a leader's report from the field (one flow per person).
FIELD_REPORT = kind("lp", TOKEN, STEP, rest=True, unknown="ui.lapor.tombol_tidak_dikenali")
# The posko's buttons on a case: ps:<action>:<case> (t take, d done, r refer, v view).
POSKO = kind(
    "ps", ("action", r"[tdrv]"), ("case", r"[0-9]{1,9}"), unknown="ui.posko.tombol_tidak_dikenali"
)
# Under a scheduled pre-flight's report: pf:h:<run id>, message the affected groups' admins.
PREFLIGHT = kind("pf", ("action", r"h"), ("run", r"[0-9]{1,12}"))
# A check-in's answer under its broadcast: ci:<broadcast>:<answer key> (scheduler.checkin);
# as with ACK, the message and chat the button sits on identify the delivery.
CHECKIN = kind(
    "ci", BROADCAST_ID, ("answer", r"[a-z][a-z0-9_]{0,11}"), unknown="checkin.tombol.tidak_berlaku"
)


async def answer(
    query: CallbackQuery, message: str | None = None, *, alert: bool = False, bot: Bot | None = None
) -> None:
    """Answer a press; too late (15 s) or twice leaves nothing to tell, so it is only logged."""
    shown = message[:ANSWER_LIMIT] if message else None
    try:
        if bot is None:
            await query.answer(shown, show_alert=alert)
        else:
            await bot.answer_callback_query(query.id, shown, show_alert=alert)
    except TelegramError as exc:
        log.info("answering a press failed: %s", exc)


async def refuse(
    update: Update,
    context: BotContext,
    key: str,
    *,
    alert: bool = True,
    bot: Bot | None = None,
    **params: object,
) -> None:
    """The one answer to a press that changes nothing: a library text, never a chat message."""
    if update.callback_query is not None:
        await answer(update.callback_query, text(context, key, **params), alert=alert, bot=bot)


async def unknown_press(update: Update, context: BotContext) -> None:
    """Registered after every kind's handler: data no kind claims (old, forged, garbage)."""
    prefix = (update.callback_query.data or "").partition(":")[0] if update.callback_query else ""
    declared = _REGISTRY.get(prefix)
    await refuse(update, context, declared.unknown if declared else "ui.tombol.tidak_dikenali")
