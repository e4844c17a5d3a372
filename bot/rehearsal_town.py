"""The rehearsal's simulated city: RW/RT groups across every kelurahan, already registered,
with leaders and residents who read reminders and press "Sudah dibaca".
"""

from __future__ import annotations

import random
from typing import Any, Literal

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

    def build(self, rt_every: int, members: int) -> list[dict[str, Any]]:
        """One RW group in every kelurahan, an RT group in every `rt_every`-th; as rows."""
        rows: list[dict[str, Any]] = []
        for index, region in enumerate(read_regions()):
            plans: list[tuple[GroupLevel, int, int | None]] = [(GroupLevel.RW, 1 + index % 7, None)]
            if index % rt_every == 0:
                plans.append((GroupLevel.RT, 1 + index % 7, 1 + index % 5))
            for level, rw, rt in plans:
                leader = self.world.add_user(f"Ketua {level.value.upper()} {region.name}")
                people = [
                    self.world.add_user(f"Warga {region.name} {n + 1}") for n in range(members)
                ]
                # A few basic groups, so one can be upgraded to a supergroup on the way.
                kind: Literal["group", "supergroup"] = "group" if index % 10 == 0 else "supergroup"
                title = f"{level.value.upper()} {rw:02d}" + (f" RT {rt:02d}" if rt else "")
                chat = self.world.add_group(
                    f"{title} {region.name}", kind, admins=[leader], members=people
                )
                chat.bot_member = Member(self.world.bot, "member")
                self.groups.append(chat)
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

    def press_some(self, seen: set[tuple[int, int]], probability: float) -> int:
        """Residents read new reminders; some press "Sudah dibaca"."""
        presses = 0
        for chat in self.groups:
            if chat.migrated_to is not None:
                continue
            for message in self.world.bot_messages(chat):
                if (chat.id, message.message_id) in seen or not message.buttons():
                    continue
                seen.add((chat.id, message.message_id))
                data = message.buttons()[0].get("callback_data")
                if not data:
                    continue
                for person in self.members.get(chat.id, []):
                    if self.rng.random() < probability:
                        try:
                            self.world.press_button(person, chat, message.message_id, data)
                            presses += 1
                        except (LookupError, ValueError):
                            break
        return presses
