"""Who is in the world and where: users, groups, the bot's and the members' status changes,
each with the updates Telegram would send."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from ..models import GROUP_ANONYMOUS_BOT_ID, Chat, Member, Message, User
from .state import WorldState


class People(WorldState):
    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "id",
        user_id: int | None = None,
        started: bool = False,
    ) -> User:
        """A Telegram user. ``started=True`` means they already pressed Start with the bot."""
        uid = user_id if user_id is not None else next(self._user_ids)
        if uid in self.users:
            raise ValueError(f"user {uid} exists")
        user = User(uid, first_name, last_name, username, language_code)
        self.users[uid] = user
        self.chats[uid] = Chat(uid, "private", user=user)
        if started:
            user.started = True
        return user

    def add_group(
        self,
        title: str,
        type: Literal["group", "supergroup"] = "group",
        *,
        admins: Iterable[User] = (),
        members: Iterable[User] = (),
        creator: User | None = None,
        anonymous_admins: Iterable[User] = (),
        username: str | None = None,
        chat_id: int | None = None,
        bot: Literal["member", "administrator"] | None = None,
    ) -> Chat:
        """A group; the bot is not in it unless ``bot`` gives its status there.

        ``bot="member"`` means the bot was already in the group before the test began: no
        updates. ``add_bot_to_group`` instead adds it as it happens, with its updates.
        The first admin is the creator unless ``creator`` is given. ``anonymous_admins`` (only in
        supergroups) post as the group itself, like Telegram's "remain anonymous" right.
        """
        if chat_id is None:
            chat_id = (
                -next(self._group_ids)
                if type == "group"
                else -(1_000_000_000_000 + next(self._supergroup_ids))
            )
        chat = Chat(chat_id, type, title=title, username=username)
        admins = list(admins)
        anonymous = list(anonymous_admins)
        if anonymous and type != "supergroup":
            raise ValueError("anonymous admins exist only in supergroups")
        if creator is None and admins:
            creator = admins[0]
        if creator is not None:
            chat.members[creator.id] = Member(creator, "creator")
        for u in admins + anonymous:
            if u.id not in chat.members:
                chat.members[u.id] = Member(u, "administrator")
        for u in anonymous:
            chat.members[u.id].is_anonymous = True
        for u in members:
            chat.members.setdefault(u.id, Member(u, "member"))
        if bot is not None:
            chat.bot_member = Member(self.bot, bot)
        self.chats[chat_id] = chat
        return chat

    def add_bot_to_group(
        self, chat: Chat | int, by: User, *, as_admin: bool = False
    ) -> list[dict[str, Any]]:
        """``by`` adds the bot: a ``my_chat_member`` update and a ``new_chat_members`` message."""
        chat = self.chat(chat)
        old = self._bot_member_api(chat)
        chat.bot_member = Member(self.bot, "administrator" if as_admin else "member")
        updates = [self._my_chat_member(chat, by, old)]
        message = self._service(chat, by, {"new_chat_members": [self.bot.to_api()]})
        updates.append(self._deliver_message(message))
        return updates

    def promote_bot(self, chat: Chat | int, by: User) -> None:
        chat = self.chat(chat)
        old = self._bot_member_api(chat)
        chat.bot_member = Member(self.bot, "administrator")
        self._my_chat_member(chat, by, old)

    def kick_bot(self, chat: Chat | int, by: User | None = None) -> None:
        """An admin removes the bot; sending there then fails with 403 "bot was kicked"."""
        chat = self.chat(chat)
        by = by or self._some_admin(chat)
        old = self._bot_member_api(chat)
        chat.bot_member = Member(self.bot, "kicked")
        self._my_chat_member(chat, by, old)

    def restrict_bot(self, chat: Chat | int, by: User | None = None) -> None:
        """An admin takes the bot's right to send (supergroups only, as in Telegram): sending
        then fails with 400 "not enough rights", while reading the chat still works."""
        chat = self.chat(chat)
        if chat.type != "supergroup":
            raise ValueError("only members of supergroups can be restricted")
        by = by or self._some_admin(chat)
        old = self._bot_member_api(chat)
        chat.bot_member = Member(self.bot, "restricted")
        self._my_chat_member(chat, by, old)

    def set_members_can_send(self, chat: Chat | int, allowed: bool) -> None:
        """The group's default permission to send messages; a plain-member bot follows it."""
        self.chat(chat).members_can_send = allowed

    def remove_bot(self, chat: Chat | int) -> None:
        """The bot leaves (leaveChat): 403 "bot is not a member" afterwards."""
        chat = self.chat(chat)
        old = self._bot_member_api(chat)
        chat.bot_member = Member(self.bot, "left")
        self._my_chat_member(chat, self.bot, old)

    def migrate_to_supergroup(self, chat: Chat | int, by: User | None = None) -> Chat:
        """Upgrade a basic group: service messages in both chats, the old id answers 400."""
        old = self.chat(chat)
        if old.type != "group":
            raise ValueError("only basic groups migrate")
        by = by or self._some_admin(old)
        new = self.add_group(old.title or "", "supergroup")
        new.members = {
            uid: Member(m.user, m.status, m.is_anonymous) for uid, m in old.members.items()
        }
        if old.bot_member is not None:
            new.bot_member = Member(self.bot, old.bot_member.status)
        new.migrated_from = old.id
        self._deliver_message(self._service(old, by, {"migrate_to_chat_id": new.id}))
        self._deliver_message(
            self._service(
                new,
                self.users[GROUP_ANONYMOUS_BOT_ID],
                {"migrate_from_chat_id": old.id},
                sender_chat=new,
            )
        )
        old.migrated_to = new.id
        return new

    def add_member(self, chat: Chat | int, user: User, by: User | None = None) -> Message:
        chat = self.chat(chat)
        old = chat.members.get(user.id)
        old_api = old.to_api() if old else {"status": "left", "user": user.to_api()}
        chat.members[user.id] = Member(user, "member")
        self._chat_member(chat, by or user, old_api, chat.members[user.id].to_api())
        message = self._service(chat, by or user, {"new_chat_members": [user.to_api()]})
        self._deliver_message(message)
        return message

    def remove_member(self, chat: Chat | int, user: User, by: User | None = None) -> Message:
        chat = self.chat(chat)
        member = chat.members.get(user.id)
        if member is None:
            raise ValueError(f"{user.first_name} is not in {chat.title}")
        old_api = member.to_api()
        member.status = "left" if by is None or by is user else "kicked"
        self._chat_member(chat, by or user, old_api, member.to_api())
        message = self._service(chat, by or user, {"left_chat_member": user.to_api()})
        self._deliver_message(message)
        return message

    def block_bot(self, user: User) -> None:
        """The user blocks the bot: 403 "bot was blocked by the user" afterwards."""
        chat = self.chats[user.id]
        user.blocked_bot = True
        self._member_update(
            "my_chat_member",
            chat,
            user,
            {"status": "member", "user": self.bot.to_api()},
            {"status": "kicked", "user": self.bot.to_api(), "until_date": 0},
        )

    def unblock_bot(self, user: User) -> None:
        chat = self.chats[user.id]
        user.blocked_bot = False
        self._member_update(
            "my_chat_member",
            chat,
            user,
            {"status": "kicked", "user": self.bot.to_api(), "until_date": 0},
            {"status": "member", "user": self.bot.to_api()},
        )
