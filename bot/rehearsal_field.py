"""The rehearsal's field scene, played through the real client against the local server.

Before the timeline starts, the city's admin official makes an operations-room group the posko
with `/posko`. Once a check-in has opened a case (the troubled group's leader answers "Ada
masalah" to every check-in), two leaders of one RW report the same missing ballot boxes with
`/lapor` within minutes: the one who registered the group from his private chat (with a TPS
number and a photo), the other in the group (without); one case. The official then takes
that case ([Saya tangani]), closes it ([Selesai] and a note typed as a reply) and refers the
check-in's case ([Bukan kewenangan Pemkot]); the reporters are told each time. What the
summary states is read back afterwards (bot.rehearsal_report).

The injected server errors pause while the scene plays: the bot does not retry an interactive
reply (a leader who lost a screen would send /lapor again and resume), and the scene plays
the happy path, not a person recovering from it.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import select

from bot.services import Services
from bot.ui.callbacks import FIELD_REPORT, POSKO, CallbackKind
from db.models import FieldCase, FieldReport, Group
from domain.field.cases import case_view
from sandbox import BotApiServer
from sandbox.media import sample_png
from sandbox.world import Chat, Message, User

WAIT = 45.0  # seconds for one answer (the server keeps Telegram's 20 a minute per group)
LAPOR_CATEGORY = ("logistik", "belum_tiba")
DESCRIPTIONS = (
    "Kotak suara dan surat suara untuk TPS 05 belum datang, KPPS sudah menghubungi PPS.",
    "Logistik TPS 05 belum sampai, warga sudah menunggu di balai RW.",
)
NOTE = "PPS mengantar kotak suara pukul 18.40; KPPS sudah menerima dan menyegel."


@dataclass
class FieldCast:
    """Who plays the scene: the posko and its official, the two leaders of one RW group, and
    the group whose leader answers every check-in with "Ada masalah"."""

    official: User
    posko: Chat
    reporting: Chat
    leaders: tuple[User, User]
    troubled: Chat


Where = Chat | User  # a group, or a user's private chat with the bot


def _chat_arg(where: Where) -> Chat | None:
    """How the world names a chat to write in: None for the user's own private chat."""
    return None if isinstance(where, User) else where


class SceneFailed(Exception):
    """The bot did not answer a step of the scene as expected; one line for the output."""


class FieldScene:
    def __init__(self, server: BotApiServer, services: Services, cast: FieldCast) -> None:
        self.server = server
        self.world = server.world
        self.services = services
        self.cast = cast
        self.played = False

    # -- the posko ---------------------------------------------------------------------------

    async def open_posko(self, out: TextIO) -> None:
        """`/posko` in the operations room by the city's admin official."""
        async with self._no_faults():
            reply = await self._say(self.cast.official, self.cast.posko, "/posko")
        _say(out, f"  🏢 posko: «{self.cast.posko.title}» — {_first_line(reply)}")

    # -- the scene ---------------------------------------------------------------------------

    async def ready(self) -> bool:
        """A check-in has opened the troubled group's case and the posko shows it."""
        return await self._troubled_case() is not None

    async def play(self, out: TextIO) -> None:
        self.played = True
        started = time.monotonic()
        async with self._no_faults():
            await self._play(out)
        _say(out, f"  ⏱ adegan lapangan {time.monotonic() - started:.1f} detik")

    @asynccontextmanager
    async def _no_faults(self) -> AsyncIterator[None]:
        plan = self.server.faults
        paused = [rule for rule in plan.rules if rule.kind == "server_error"]
        plan.rules = [rule for rule in plan.rules if rule.kind != "server_error"]
        try:
            yield
        finally:
            plan.rules.extend(paused)

    async def _play(self, out: TextIO) -> None:
        first, second = self.cast.leaders
        group = self.cast.reporting
        receipt = await self._lapor(first, first, tps="05", photo=True, text=DESCRIPTIONS[0])
        _say(out, f"  📝 /lapor {first.first_name} (chat pribadi): {_first_line(receipt)}")
        receipt = await self._lapor(second, group, tps=None, photo=False, text=DESCRIPTIONS[1])
        _say(out, f"  📝 /lapor {second.first_name} (grup): {' '.join(_lines(receipt))}")
        case_id = await self._lapor_case()
        official, posko = self.cast.official, self.cast.posko
        card = await self._card(case_id)
        await self._press(official, posko, card, POSKO.build("t", case_id))
        await self._told((first, group), "ui.lapor.kabar.ditangani")
        card = await self._card(case_id)
        await self._press(official, posko, card, POSKO.build("d", case_id))
        prompt = await self.server.wait_for_message(
            posko, lambda m: f"#{case_id}" in (m.text or "") and m.reply_markup is None, WAIT,
            after=card.message_id,
        )  # fmt: skip
        await self._reply(official, posko, prompt, NOTE)
        await self._told((first, group), "ui.lapor.kabar.tuntas")
        _say(out, f"  ✅ posko: kasus #{case_id} ditangani lalu selesai, pelapor diberi kabar")
        troubled = await self._troubled_case()
        if troubled is None:
            raise SceneFailed("no check-in case to refer")
        card = await self._card(troubled)
        await self._press(official, posko, card, POSKO.build("r", troubled))
        await self._told((self.cast.troubled,), "ui.lapor.kabar.dirujuk")
        _say(out, f"  ↪️ posko: kasus #{troubled} (cek-in) bukan kewenangan Pemkot, dirujuk")

    async def _lapor(
        self, leader: User, group: Where, *, tps: str | None, photo: bool, text: str
    ) -> Message:
        """The guided /lapor (in the group or the leader's private chat), every typed step a
        reply to the bot's question."""
        screen = await self._say(leader, group, "/lapor")
        screen = await self._press(
            leader, group, screen, _button(screen, FIELD_REPORT, "k", *LAPOR_CATEGORY)
        )
        if tps is None:
            screen = await self._press(leader, group, screen, _button(screen, FIELD_REPORT, "skip"))
        else:
            screen = await self._reply(leader, group, screen, f"TPS {tps}")
        screen = await self._reply(leader, group, screen, text)
        if photo:
            last = self._last(group)
            self.world.user_sends_photo(leader, _chat_arg(group), sample_png(8, 6), reply_to=screen)
            screen = await self.server.wait_for_message(group, None, WAIT, after=last)
        screen = await self._press(leader, group, screen, _button(screen, FIELD_REPORT, "next"))
        return await self._press(leader, group, screen, _button(screen, FIELD_REPORT, "ok"))

    # -- reading the database ----------------------------------------------------------------

    async def _lapor_case(self) -> int:
        async with self.services.sessions() as session:
            case_id = await session.scalar(
                select(FieldReport.case_id)
                .join(Group, Group.id == FieldReport.group_id)
                .where(Group.chat_id == self.cast.reporting.id, FieldReport.source == "lapor")
                .order_by(FieldReport.id)
                .limit(1)
            )
        if case_id is None:
            raise SceneFailed("the /lapor reports made no case")
        return int(case_id)

    async def _troubled_case(self) -> int | None:
        async with self.services.sessions() as session:
            found = await session.scalar(
                select(FieldCase.id)
                .join(FieldReport, FieldReport.case_id == FieldCase.id)
                .join(Group, Group.id == FieldReport.group_id)
                .where(
                    Group.chat_id == self.cast.troubled.id,
                    FieldReport.source.startswith("checkin:"),
                    FieldCase.posko_message_id.is_not(None),
                )
                .order_by(FieldCase.id)
                .limit(1)
            )
        return int(found) if found is not None else None

    async def _card(self, case_id: int) -> Message:
        """The case's own card in the posko (a digest line is opened as a card first)."""

        async def posted() -> tuple[int, bool] | None:
            async with self.services.sessions() as session:
                view = await case_view(session, case_id)
            if view is None or view.posko_message_id is None:
                return None
            return view.posko_message_id, view.posko_digest

        found = await self._poll(posted)
        message_id, digest = found
        message = self.cast.posko.messages[message_id]
        if digest:
            view = POSKO.build("v", case_id)
            await self._press(self.cast.official, self.cast.posko, message, view)
            found = await self._poll(posted, lambda f: not f[1])
            message = self.cast.posko.messages[found[0]]
        return message

    async def _poll(self, read: Callable[[], Any], done: Callable[[Any], bool] = bool) -> Any:
        result: list[Any] = []

        async def check() -> bool:
            value = await read()
            if value is not None and done(value):
                result.append(value)
                return True
            return False

        for _ in range(int(WAIT / 0.05)):
            if await check():
                return result[0]
            await self.world.wait_changed(0.05)
        raise SceneFailed("the posko did not show the case")

    # -- talking through the server ----------------------------------------------------------

    def _last(self, chat: Where) -> int:
        last = self.world.last_bot_message(chat)
        return last.message_id if last else 0

    async def _say(self, user: User, chat: Where, text: str) -> Message:
        after = self._last(chat)
        self.world.user_sends(user, _chat_arg(chat), text)
        return await self.server.wait_for_message(chat, None, WAIT, after=after)

    async def _reply(self, user: User, chat: Where, to: Message, text: str) -> Message:
        after = self._last(chat)
        self.world.user_sends(user, _chat_arg(chat), text, reply_to=to)
        return await self.server.wait_for_message(chat, None, WAIT, after=after)

    async def _press(self, user: User, chat: Where, message: Message, data: str) -> Message:
        """Press a button; the bot's next message there, or `message` once edited in place."""
        after = self._last(chat)
        before = (message.text, message.caption, message.edit_date, str(message.reply_markup))
        query = self.world.press_button(user, chat, message.message_id, data)
        await self.server.wait_for_callback_answer(query, WAIT)

        def changed() -> Message | None:
            newer = [m for m in self.world.bot_messages(chat) if m.message_id > after]
            if newer:
                return newer[0]
            now = (message.text, message.caption, message.edit_date, str(message.reply_markup))
            return message if now != before else None

        result: Message = await self.server.wait_until(changed, WAIT)
        return result

    async def _told(self, chats: tuple[Where, ...], key: str) -> None:
        """Every reporter's chat hears of the change."""
        pattern = told_pattern(self.services, key)
        for chat in chats:
            await self.server.wait_for_message(
                chat, lambda m: pattern.match(m.text or "") is not None, WAIT
            )


def told_pattern(services: Services, key: str) -> re.Pattern[str]:
    """What a reporter's news of `key` looks like (its first line, any report numbers)."""
    from messages.render import render
    from messages.telegram_html import visible_text

    marker = "§§"
    body = render(
        key, services.profile, services.clock.now(),
        {"nomor": marker, "catatan": "", "rujukan": ""},
    )  # fmt: skip
    before, after = visible_text(body).split(marker, 1)
    return re.compile(re.escape(before) + r"[0-9#, ]+" + re.escape(after.split("\n", 1)[0]))


def _button(message: Message, kind: CallbackKind, step: str, *args: str) -> str:
    for button in message.buttons():
        data = str(button.get("callback_data") or "")
        press = kind.parse(data)
        if press is not None and press["step"] == step and tuple(press.args) == args:
            return data
    raise SceneFailed(f"no {step} button on: {_first_line(message)}")


def _lines(message: Message) -> list[str]:
    return [line for line in (message.text or message.caption or "").splitlines() if line.strip()]


def _first_line(message: Message) -> str:
    lines = _lines(message)
    return lines[0] if lines else ""


def _say(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()
