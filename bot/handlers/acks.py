"""The "✅ Sudah dibaca" button under broadcasts: recorded, answered, counted on the button.

A press is written through the AckWriter (group commit: a burst becomes a few transactions)
and the callback answered as soon as its row is in, so people see at once whether it counted.
Slower things come after the answer: whether the presser is a group admin (the RT/RW leader,
cached per chat) and the count on the button, which a repeating job edits at a pace Telegram
accepts (one edit per message every few seconds at most, only when the count changed).

Answers, admin look-ups and count edits go through a Bot of their own (bot.http_sender's aiohttp
transport, as broadcasts do), paced here: httpx costs about ten times the CPU per request on a
small machine, which alone would cap a burst well below 500 presses a second. PTB's limiter on
the interactive bot would also queue them with the replies officials wait for, and its
Defaults add `parse_mode` to editMessageReplyMarkup, which has no such parameter.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from telegram import Bot, CallbackQuery, Update
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import BotContext
from bot.http_sender import ack_keyboard
from bot.side_bot import SideBot
from bot.ui.callbacks import ACK, answer
from bot.ui.views import text
from db.engine import SessionFactory
from domain.acks import AckOutcome, AckWriter, Press, ack_counts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AckConfig:
    # Presses handled at once. More only queue inside the HTTP client (whose pool bookkeeping
    # grows with its queue) and make every answer later; the AckWriter batches what waits.
    presses_at_once: int = 128
    # Telegram refuses an answer 15 s after the press; past this (counted from when the press
    # reached the handler, so a little late) the answer is skipped and its request saved.
    answer_within: float = 13.0
    # A press whose row is not written after this long (another process holds the database
    # past its busy timeout) is answered "being recorded" at once, and written when it can be:
    # waiting for the write would let Telegram's 15 s window close on the spinner.
    answer_pending_after: float = 8.0
    # How long a chat's admin list is trusted; anonymous admins are in it too.
    admin_ttl: float = 300.0
    admin_lookups: int = 8  # at once, on a connection pool of their own
    # The count on the button: checked every `tick`, one message edited at most every `gap`
    # seconds, and at most `edits_per_tick` edits a tick so broadcasts keep Telegram's budget.
    tick: float = 1.0
    gap: float = 5.0
    edits_per_tick: int = 5


class ChatAdmins:
    """Who administers each group, from getChatAdministrators, cached per chat.

    One call covers every member who presses in that chat (getChatMember would need one per
    member); concurrent presses in one chat share the call.
    """

    def __init__(self, config: AckConfig) -> None:
        self.config = config
        self._cache: dict[int, tuple[float, frozenset[int]]] = {}
        self._inflight: dict[int, asyncio.Future[frozenset[int]]] = {}
        self._limit = asyncio.Semaphore(config.admin_lookups)
        self.lookups = 0

    async def is_admin(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        return user_id in await self.admins_of(bot, chat_id)

    async def admins_of(self, bot: Bot, chat_id: int) -> frozenset[int]:
        cached = self._cache.get(chat_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        pending = self._inflight.get(chat_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[frozenset[int]] = asyncio.get_running_loop().create_future()
        self._inflight[chat_id] = future
        try:
            admins, ttl = await self._fetch(bot, chat_id)
            self._cache[chat_id] = (time.monotonic() + ttl, admins)
            future.set_result(admins)
            return admins
        finally:
            del self._inflight[chat_id]
            if not future.done():
                future.cancel()

    async def _fetch(self, bot: Bot, chat_id: int) -> tuple[frozenset[int], float]:
        async with self._limit:
            self.lookups += 1
            try:
                members = await bot.get_chat_administrators(chat_id)
            except TelegramError as exc:
                # Kicked, migrated, flooded: nobody counts as admin for a short while.
                log.info("admins of %s unknown: %s", chat_id, exc)
                return frozenset(), min(60.0, self.config.admin_ttl)
        return frozenset(m.user.id for m in members), self.config.admin_ttl


@dataclass
class _Dirty:
    delivery_id: int
    broadcast_id: int
    chat_id: int
    message_id: int


class ButtonCounts:
    """Which buttons need their count redrawn, and what each one shows now."""

    def __init__(self, config: AckConfig, label: str) -> None:
        self.config = config
        self.label = label
        self._dirty: dict[int, _Dirty] = {}
        self._shown: dict[int, int] = {}
        self._edited: dict[int, float] = {}
        self.edits = 0
        self.started = False

    def touch(self, delivery_id: int, broadcast_id: int, chat_id: int, message_id: int) -> None:
        # An entry already waiting keeps its place: the oldest waiting button goes first.
        self._dirty.setdefault(delivery_id, _Dirty(delivery_id, broadcast_id, chat_id, message_id))

    @property
    def waiting(self) -> int:
        return len(self._dirty)

    def _due(self) -> list[_Dirty]:
        now = time.monotonic()
        due = []
        for entry in self._dirty.values():
            if now - self._edited.get(entry.delivery_id, -math.inf) >= self.config.gap:
                due.append(entry)
                if len(due) >= self.config.edits_per_tick:
                    break
        return due

    async def flush(self, bot: Bot, sessions: SessionFactory) -> None:
        due = self._due()
        if not due:
            return
        for entry in due:  # presses from now on mark them again
            del self._dirty[entry.delivery_id]
        async with sessions() as session:
            counts = await ack_counts(session, [e.delivery_id for e in due])
        changed = [
            (entry, counts.get(entry.delivery_id, 0))
            for entry in due
            if self._shown.get(entry.delivery_id) != counts.get(entry.delivery_id, 0)
        ]  # an unchanged count is not sent: Telegram would answer "message is not modified"
        # Together, so a tick takes one round trip however many buttons it redraws.
        results = await asyncio.gather(
            *(self._redraw(bot, entry, count) for entry, count in changed),
            return_exceptions=True,
        )
        for (entry, count), result in zip(changed, results, strict=True):
            if isinstance(result, RetryAfter):
                self._dirty.setdefault(entry.delivery_id, entry)  # next time
                continue
            if isinstance(result, BadRequest) and "not modified" not in result.message.lower():
                log.info("ack count of %s not shown: %s", entry.delivery_id, result.message)
                continue
            if isinstance(result, BaseException) and not isinstance(result, BadRequest):
                log.info("ack count of %s not shown: %s", entry.delivery_id, result)
                continue
            self.edits += 1
            self._shown[entry.delivery_id] = count
            self._edited[entry.delivery_id] = time.monotonic()
        if len(self._shown) > 100_000:  # old broadcasts' buttons: forget, redraw on demand
            self._shown.clear()
            self._edited.clear()

    async def _redraw(self, bot: Bot, entry: _Dirty, count: int) -> None:
        await bot.edit_message_reply_markup(
            entry.chat_id,
            entry.message_id,
            reply_markup=ack_keyboard(f"{self.label} ({count})", ACK.build(entry.broadcast_id)),
        )


async def _flush_counts(context: BotContext) -> None:
    """Repeating job: redraw the counts that changed; its data is the AckButtons."""
    assert context.job is not None
    buttons: AckButtons = context.job.data  # type: ignore[assignment]
    if buttons.counts is not None:
        await buttons.counts.flush(await buttons.side_bot(context), context.services.sessions)


class AckButtons:
    """The press handler and what it keeps between presses, one per Application."""

    def __init__(self, config: AckConfig | None = None) -> None:
        self.config = config or AckConfig()
        self.admins = ChatAdmins(self.config)
        self.writer: AckWriter | None = None
        self.counts: ButtonCounts | None = None
        self._side_bot = SideBot(self.config.presses_at_once + self.config.admin_lookups, "acks")
        self._pressing = asyncio.Semaphore(self.config.presses_at_once)
        self.unanswered = 0  # recorded, but too late for Telegram to take an answer
        self._answers: dict[str, str] = {}

    def _setup(self, context: BotContext) -> tuple[AckWriter, ButtonCounts]:
        if self.writer is None or self.counts is None:
            services = context.services
            self.writer = AckWriter(services.sessions, services.clock)
            self.counts = ButtonCounts(self.config, services.broadcasts.ack_label)
            # Rendered once: a burst of presses must not render the same text thousands of times.
            self._answers = {
                key: text(context, key)
                for key in (
                    "sistem.tombol.tercatat",
                    "sistem.tombol.sedang_dicatat",
                    "ui.tombol.sudah_tercatat",
                    ACK.unknown,
                    "ui.tombol.coba_lagi",
                )
            }
        if not self.counts.started and context.job_queue is not None:
            context.job_queue.run_repeating(
                _flush_counts,  # type: ignore[arg-type]
                interval=self.config.tick,
                first=self.config.tick,
                name="ack-counts",  # not "ack:…": that reads as callback data
                data=self,
                job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            )
            self.counts.started = True
        return self.writer, self.counts

    async def side_bot(self, context: BotContext) -> Bot:
        """The Bot for answers, admin look-ups and count edits: no PTB limiter, no Defaults."""
        return await self._side_bot.get(context)

    async def on_press(self, update: Update, context: BotContext) -> None:
        """Record the press, answer it, then learn whether the presser leads the group."""
        query = update.callback_query
        if query is None:
            return
        received = time.monotonic()
        writer, counts = self._setup(context)
        bot = await self.side_bot(context)
        press = _press(query)
        if press is None:
            await answer(query, self._answers[ACK.unknown], bot=bot)
            return
        # Into the writer at once (it batches whatever waits); the answers are what is bounded.
        recording = asyncio.ensure_future(writer.record(press))
        patience = received + self.config.answer_pending_after - time.monotonic()
        await asyncio.wait({recording}, timeout=max(0.0, patience))
        if not recording.done():
            # The database is held up: the press is kept (retried until written), say so now.
            async with self._pressing:
                await answer(query, self._answers["sistem.tombol.sedang_dicatat"], bot=bot)
            result = await recording
        else:
            async with self._pressing:
                try:
                    result = recording.result()
                except Exception:
                    await answer(query, self._answers["ui.tombol.coba_lagi"], bot=bot)
                    raise
                key = {
                    AckOutcome.RECORDED: "sistem.tombol.tercatat",
                    AckOutcome.ALREADY: "ui.tombol.sudah_tercatat",
                }.get(result.outcome, ACK.unknown)
                if time.monotonic() - received < self.config.answer_within:
                    await answer(query, self._answers[key], bot=bot)
                else:
                    self.unanswered += 1
        if result.outcome is not AckOutcome.RECORDED or result.delivery_id is None:
            return
        counts.touch(result.delivery_id, press.broadcast_id, press.chat_id, press.message_id)
        if await self.admins.is_admin(bot, press.chat_id, press.user_id):
            writer.mark_admin(result.delivery_id, press.user_id)


def _press(query: CallbackQuery) -> Press | None:
    parsed = ACK.parse(query.data)
    message = query.message
    if parsed is None or message is None:
        return None
    user = query.from_user
    return Press(
        broadcast_id=parsed.number("broadcast"),
        chat_id=message.chat.id,
        message_id=message.message_id,
        user_id=user.id,
        user_name=user.full_name,
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    buttons = AckButtons()
    # block=False: presses must not queue behind each other (nor behind other updates) in
    # PTB's concurrent_updates slots; the AckWriter batches them instead.
    return [CallbackQueryHandler(buttons.on_press, pattern=ACK.pattern, block=False)]
