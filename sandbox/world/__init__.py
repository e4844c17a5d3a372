"""The people, chats and messages the sandboxed bot lives among, and the updates they cause.

Everything here is synchronous and single-threaded (it runs on the server's event loop); a test
changes the world with plain method calls and the bot sees the consequences as Bot API updates.
"""

from __future__ import annotations

import asyncio
import itertools
import mimetypes
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

from .entities import command_of, find_entities
from .models import (
    GROUP_ANONYMOUS_BOT_ID,
    CallbackAnswer,
    CallbackQuery,
    Chat,
    ChatType,
    Member,
    MemberStatus,
    Message,
    StoredFile,
    User,
)

# Updates Telegram does not send unless asked for by name in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

__all__ = [
    "GROUP_ANONYMOUS_BOT_ID",
    "OPT_IN_UPDATES",
    "CallbackAnswer",
    "CallbackQuery",
    "Chat",
    "ChatType",
    "Member",
    "MemberStatus",
    "Message",
    "StoredFile",
    "User",
    "World",
]


class World:
    """Users, chats and messages; pending updates for the bot; what the bot did to them."""

    def __init__(self, bot: User, *, privacy_mode: bool = True, seed: int = 0) -> None:
        self.bot = bot
        self.privacy_mode = privacy_mode
        self.users: dict[int, User] = {bot.id: bot}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[tuple[int, str, float]] = []
        self.commands: dict[tuple[str, int | None, int | None, str], list[dict[str, str]]] = {}
        self.allowed_updates: frozenset[str] | None = None
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_last_error: tuple[int, str] | None = None  # (unix time, message)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._user_ids = itertools.count(700_000_001 + seed * 1000)
        self._group_ids = itertools.count(400_000_001 + seed * 1000)
        self._supergroup_ids = itertools.count(2_000_000_001 + seed * 1000)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._changed = asyncio.Event()
        self._waiting = 0
        self._listeners: list[Callable[[], None]] = []
        self.users[GROUP_ANONYMOUS_BOT_ID] = User(
            GROUP_ANONYMOUS_BOT_ID, "Group", username="GroupAnonymousBot", is_bot=True
        )

    # ---- change notification -------------------------------------------------------------

    def changed(self) -> None:
        """Wake everyone waiting on the world (long polls, ``wait_for_*`` helpers)."""
        if self._waiting:  # a fresh Event only when someone waits: this runs on every call
            self._changed.set()
            self._changed = asyncio.Event()
            self._waiting = 0
        for listener in self._listeners:
            listener()

    async def wait_changed(self, timeout: float) -> bool:
        """Wait until the next change or ``timeout`` seconds; whether something changed."""
        event = self._changed
        self._waiting += 1
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    # ---- people and chats ------------------------------------------------------------------

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

    def chat(self, ref: Chat | User | int | str) -> Chat:
        """The chat for a Chat, a User (their private chat), an id or an @username."""
        if isinstance(ref, Chat):
            return ref
        if isinstance(ref, User):
            return self.chats[ref.id]
        if isinstance(ref, str):
            found = self.find_chat(ref)
            if found is None:
                raise KeyError(ref)
            return found
        return self.chats[ref]

    def find_chat(self, ref: int | str) -> Chat | None:
        if isinstance(ref, str):
            name = ref.removeprefix("@").lower()
            for c in self.chats.values():
                if c.username and c.username.lower() == name and c.type != "private":
                    return c
            return None
        return self.chats.get(ref)

    def user(self, ref: User | int) -> User:
        return ref if isinstance(ref, User) else self.users[ref]

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

    # ---- what users do ---------------------------------------------------------------------

    def user_sends(
        self,
        user: User,
        chat: Chat | User | int | None = None,
        text: str = "",
        *,
        reply_to: Message | int | None = None,
        entities: list[dict[str, Any]] | None = None,
        anonymous: bool | None = None,
    ) -> Message:
        """``user`` writes ``text`` in ``chat`` (their private chat with the bot by default).

        Entities Telegram would find (``/cmd@bot``, mentions, links) are added. In groups the
        bot gets the update only as privacy mode allows; the message is stored either way.
        """
        target = self.chats[user.id] if chat is None else self.chat(chat)
        self._check_can_post(user, target)
        message = self._user_message(user, target, reply_to, anonymous)
        message.text = text
        message.entities = entities if entities is not None else find_entities(text) or None
        self._deliver_message(message)
        return message

    def user_sends_document(
        self,
        user: User,
        chat: Chat | User | int | None,
        filename: str,
        data: bytes,
        *,
        caption: str | None = None,
        mime_type: str | None = None,
        reply_to: Message | int | None = None,
    ) -> Message:
        target = self.chats[user.id] if chat is None else self.chat(chat)
        self._check_can_post(user, target)
        stored = self.store_file(data, filename, mime_type, kind="documents")
        message = self._user_message(user, target, reply_to, None)
        message.document = self.document_api(stored)
        if caption:
            message.caption = caption
            message.caption_entities = find_entities(caption) or None
        self._deliver_message(message)
        return message

    def user_edits(self, user: User, message: Message, text: str) -> Message:
        if message.from_user is not user:
            raise ValueError("users edit only their own messages")
        message.text = text
        message.entities = find_entities(text) or None
        message.edit_date = int(time.time())
        if self._bot_receives(message):
            self.push_update("edited_message", message.to_api())
        self.changed()
        return message

    def press_button(
        self, user: User, chat: Chat | User | int, message_id: int, callback_data: str
    ) -> str:
        """``user`` presses the inline button carrying ``callback_data``; the query's id."""
        target = self.chat(chat)
        message = target.messages.get(message_id)
        if message is None or message.deleted:
            raise LookupError(f"no message {message_id} in chat {target.id}")
        if not any(b.get("callback_data") == callback_data for b in message.buttons()):
            raise LookupError(f"message {message_id} has no button with data {callback_data!r}")
        query = CallbackQuery(
            str(next(self._query_ids)), user, message, callback_data, time.monotonic()
        )
        self.callback_queries[query.id] = query
        self.push_update("callback_query", query.to_api())
        return query.id

    def unanswered_callbacks(self) -> list[CallbackQuery]:
        return [q for q in self.callback_queries.values() if not q.answered]

    # ---- reading what happened -------------------------------------------------------------

    def messages_in(
        self,
        chat: Chat | User | int,
        *,
        from_bot: bool | None = None,
        include_deleted: bool = False,
    ) -> list[Message]:
        """Messages of a chat in order; ``from_bot=True`` only those the bot sent."""
        out = []
        for m in self.chat(chat).messages.values():
            if m.deleted and not include_deleted:
                continue
            if from_bot is not None and m.from_bot_self != from_bot:
                continue
            out.append(m)
        return out

    def bot_messages(self, chat: Chat | User | int) -> list[Message]:
        return self.messages_in(chat, from_bot=True)

    def last_bot_message(self, chat: Chat | User | int) -> Message | None:
        sent = self.bot_messages(chat)
        return sent[-1] if sent else None

    # ---- updates ---------------------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        if self._wanted(kind):
            self._updates.append(update)
        self.changed()
        return update

    def _wanted(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in OPT_IN_UPDATES
        return kind in self.allowed_updates

    def pending_updates(self, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Updates from ``offset`` on; those before it are confirmed and forgotten."""
        if offset < 0:
            return self._updates[offset:][:limit]
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        return self._updates[:limit]

    def drop_pending_updates(self) -> None:
        self._updates.clear()

    @property
    def pending_update_count(self) -> int:
        return len(self._updates)

    # ---- for the API methods ---------------------------------------------------------------

    def store_file(
        self, data: bytes, file_name: str | None, mime_type: str | None, *, kind: str
    ) -> StoredFile:
        n = next(self._file_ids)
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        ext = f".{file_name.rsplit('.', 1)[1]}" if file_name and "." in file_name else ""
        stored = StoredFile(
            file_id=f"BQACAgUAAxkBAAI{n:08d}sandbox{kind[:3]}",
            file_unique_id=f"AgAD{n:06d}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{kind}/file_{n}{ext}",
        )
        self.files[stored.file_id] = stored
        return stored

    @staticmethod
    def document_api(stored: StoredFile) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            out["file_name"] = stored.file_name
        if stored.mime_type:
            out["mime_type"] = stored.mime_type
        return out

    def new_bot_message(self, chat: Chat) -> Message:
        message = Message(chat.next_message_id, chat, int(time.time()), self.bot, sent_by_bot=True)
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return message

    # ---- internals -------------------------------------------------------------------------

    def _check_can_post(self, user: User, chat: Chat) -> None:
        if chat.type == "private":
            if chat.user is not user:
                raise ValueError(f"{user.first_name} can't post in {chat.user and chat.user.id}")
            user.started = True
            return
        if chat.migrated_to is not None:
            raise ValueError(f"chat {chat.id} was migrated to {chat.migrated_to}")
        member = chat.members.get(user.id)
        if member is None or not member.is_present:
            raise ValueError(f"{user.first_name} is not a member of {chat.title!r}")

    def _user_message(
        self, user: User, chat: Chat, reply_to: Message | int | None, anonymous: bool | None
    ) -> Message:
        member = chat.members.get(user.id)
        if anonymous is None:
            anonymous = bool(member and member.is_anonymous and member.is_admin)
        if isinstance(reply_to, int):
            reply_to = chat.messages[reply_to]
        message = Message(chat.next_message_id, chat, int(time.time()), user, reply_to=reply_to)
        if anonymous:
            message.from_user = self.users[GROUP_ANONYMOUS_BOT_ID]
            message.sender_chat = chat
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return message

    def _service(
        self, chat: Chat, by: User, fields: dict[str, Any], *, sender_chat: Chat | None = None
    ) -> Message:
        message = Message(
            chat.next_message_id, chat, int(time.time()), by, sender_chat, service=fields
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return message

    def _bot_receives(self, message: Message) -> bool:
        chat = message.chat
        if chat.type == "private":
            return not (chat.user and chat.user.blocked_bot)
        bot = chat.bot_member
        if bot is None or not bot.is_present:
            return False
        if message.is_service or not self.privacy_mode or bot.is_admin:
            return True
        if message.reply_to is not None and message.reply_to.from_bot_self:
            return True
        text = message.text if message.text is not None else message.caption
        if text and text.startswith("/"):
            entities = message.entities if message.text is not None else message.caption_entities
            command = command_of(text, entities)
            if command is None:
                return True
            _, addressed_to = command
            return addressed_to is None or addressed_to.lower() == (self.bot.username or "").lower()
        return False

    def _deliver_message(self, message: Message) -> dict[str, Any]:
        if self._bot_receives(message):
            return self.push_update("message", message.to_api())
        self.changed()
        return {}

    def _bot_member_api(self, chat: Chat) -> dict[str, Any]:
        if chat.bot_member is None:
            return {"status": "left", "user": self.bot.to_api()}
        return chat.bot_member.to_api()

    def _my_chat_member(self, chat: Chat, by: User, old: dict[str, Any]) -> dict[str, Any]:
        assert chat.bot_member is not None
        return self._member_update("my_chat_member", chat, by, old, chat.bot_member.to_api())

    def _chat_member(
        self, chat: Chat, by: User, old: dict[str, Any], new: dict[str, Any]
    ) -> dict[str, Any]:
        if chat.bot_member is None or not chat.bot_member.is_admin:
            return {}  # chat_member updates reach only administrators
        return self._member_update("chat_member", chat, by, old, new)

    def _member_update(
        self, kind: str, chat: Chat, by: User, old: dict[str, Any], new: dict[str, Any]
    ) -> dict[str, Any]:
        payload = {
            "chat": chat.to_api(),
            "from": by.to_api(),
            "date": int(time.time()),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        return self.push_update(kind, payload)

    @staticmethod
    def _some_admin(chat: Chat) -> User:
        admins = chat.admins()
        if not admins:
            raise ValueError(f"{chat.title!r} has no admin to act; pass by=")
        return admins[0].user
