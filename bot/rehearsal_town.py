"""The rehearsal's simulated city: RW/RT groups across every kelurahan, already registered,
with leaders and residents who read reminders and press "Sudah dibaca", and leaders who answer
check-ins (most "all is well", a few "Belum" or "Ada masalah" with a description, some never).
"""

from __future__ import annotations

import random
from typing import Any, Literal

from bot.rehearsal_field import FieldCast
from bot.ui.callbacks import ACK, CHECKIN
from db.models import GroupLevel
from domain.regions import read_regions
from sandbox.world import Chat, Member, User, World


class Town:
    """The simulated city: leaders and residents in RW/RT groups that already registered."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.groups: list[Chat] = []
        self.members: dict[int, list[User]] = {}
        self.checkin_answers = 0
        self.descriptions = 0
        # The field scene's groups (bot.rehearsal_field): two leaders of one RW group who
        # /lapor, and a group whose leader answers every check-in with "Ada masalah".
        self.reporting: Chat | None = None
        self.second_leader: User | None = None
        self.troubled: Chat | None = None

    def build(self, rt_every: int, members: int) -> list[dict[str, Any]]:
        """One RW group in every kelurahan, an RT group in every `rt_every`-th; as rows."""
        rows: list[dict[str, Any]] = []
        for index, region in enumerate(read_regions()):
            plans: list[tuple[GroupLevel, int, int | None]] = [(GroupLevel.RW, 1 + index % 7, None)]
            if index % rt_every == 0:
                plans.append((GroupLevel.RT, 1 + index % 7, 1 + index % 5))
            for level, rw, rt in plans:
                # Index 0 is a basic group upgraded on the way: the scene plays in 1 and 2.
                reporting = index == 1 and level is GroupLevel.RW
                # The reporting group's leader has started the bot: he reports in private.
                leader = self.world.add_user(
                    f"Ketua {level.value.upper()} {region.name}", started=reporting
                )
                people = [
                    self.world.add_user(f"Warga {region.name} {n + 1}") for n in range(members)
                ]
                admins = [leader]
                if reporting:
                    self.second_leader = self.world.add_user(f"Sekretaris RW {region.name}")
                    admins.append(self.second_leader)
                # A few basic groups, so one can be upgraded to a supergroup on the way.
                kind: Literal["group", "supergroup"] = "group" if index % 10 == 0 else "supergroup"
                title = f"{level.value.upper()} {rw:02d}" + (f" RT {rt:02d}" if rt else "")
                chat = self.world.add_group(
                    f"{title} {region.name}", kind, admins=admins, members=people
                )
                chat.bot_member = Member(self.world.bot, "member")
                self.groups.append(chat)
                if reporting:
                    self.reporting = chat
                elif index == 2 and level is GroupLevel.RW:
                    self.troubled = chat
                self.members[chat.id] = [leader, *people]
                rows.append(
                    {
                        "chat_id": chat.id,
                        "title": chat.title,
                        "chat_type": kind,
                        "level": level,
                        "kelurahan_code": region.code,
                        "rw": rw,
                        "rt": rt,
                        "subscribed_by": leader.id,
                    }
                )
        return rows

    def officials(self) -> list[dict[str, Any]]:
        """One camat's office per kecamatan, who started the bot (they get no-answer lists)."""
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for region in read_regions():
            if region.kecamatan_code in seen:
                continue
            seen.add(region.kecamatan_code)
            user = self.world.add_user(f"Kantor Kecamatan {region.kecamatan}", started=True)
            rows.append({"user_id": user.id, "kecamatan_code": region.kecamatan_code})
        return rows

    def field_cast(self) -> tuple[FieldCast, dict[str, Any]] | None:
        """The scene's cast, with the posko's admin official (city-wide) as an officials row."""
        if self.reporting is None or self.second_leader is None or self.troubled is None:
            return None
        official = self.world.add_user("Bagian Pemerintahan Pemkot", started=True)
        posko = self.world.add_group("Posko Pilkada Pemkot Malang", "supergroup", admins=[official])
        posko.bot_member = Member(self.world.bot, "member")
        leader = self.members[self.reporting.id][0]
        leaders = (leader, self.second_leader)
        cast = FieldCast(official, posko, self.reporting, leaders, self.troubled)
        return cast, {"user_id": official.id, "name": official.first_name, "kecamatan_code": None}

    def press_some(self, seen: set[tuple[int, int]], probability: float) -> int:
        """Residents read new reminders; some press "Sudah dibaca"; leaders answer check-ins."""
        presses = 0
        for chat in self.groups:
            if chat.migrated_to is not None:
                continue
            for message in self.world.bot_messages(chat):
                if (chat.id, message.message_id) in seen:
                    continue
                if not message.buttons():
                    if message.reply_to is not None and _ASKS_FOR_DESCRIPTION in (
                        message.text or ""
                    ):
                        seen.add((chat.id, message.message_id))
                        self._describe(chat, message)
                    continue
                seen.add((chat.id, message.message_id))
                data = message.buttons()[0].get("callback_data")
                if not data:
                    continue
                if CHECKIN.parse(str(data)) is not None:
                    presses += self._answer_checkin(chat, message)
                    continue
                if ACK.parse(str(data)) is None:
                    continue  # a leader's own flow (/lapor): played by the field scene
                for person in self.members.get(chat.id, []):
                    if self.rng.random() < probability:
                        try:
                            self.world.press_button(person, chat, message.message_id, data)
                            presses += 1
                        except (LookupError, ValueError):
                            break
        return presses

    def _answer_checkin(self, chat: Chat, message: Any) -> int:
        """The leader answers (or not); now and then a resident presses too."""
        people = self.members.get(chat.id, [])
        buttons = [str(b["callback_data"]) for b in message.buttons()]
        roll = self.rng.random()
        if not people or (roll < 0.12 and chat is not self.troubled):
            return 0  # a leader who never answers: the no-answer list names this group
        # Mostly the first answer (all is well); a few "Belum" / "Ada masalah".
        choice = buttons[0]
        if chat is self.troubled or roll > 0.94:
            choice = buttons[-1]
        elif roll > 0.88 and len(buttons) > 2:
            choice = buttons[1]
        presses = 0
        try:
            self.world.press_button(people[0], chat, message.message_id, choice)
            presses += 1
            if len(people) > 1 and self.rng.random() < 0.3:
                self.world.press_button(people[1], chat, message.message_id, buttons[0])
                presses += 1
        except (LookupError, ValueError):
            return presses
        self.checkin_answers += presses
        return presses

    def _describe(self, chat: Chat, ask: Any) -> None:
        people = self.members.get(chat.id, [])
        if not people:
            return
        text = self.rng.choice(_DESCRIPTIONS)
        try:
            self.world.user_sends(people[0], chat, text, reply_to=ask)
            self.descriptions += 1
        except (LookupError, ValueError):
            pass


# A word of the bot's request for a description (messages/library/checkin.toml).
_ASKS_FOR_DESCRIPTION = "balas pesan ini"
_DESCRIPTIONS = (
    "Kotak suara untuk TPS 05 belum datang, KPPS sudah menghubungi PPS.",
    "Bilik suara kurang satu, sedang diusahakan KPPS.",
    "Surat suara sudah datang tetapi kotak suaranya rusak.",
)
