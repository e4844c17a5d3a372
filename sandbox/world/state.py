"""The world's state and its plumbing: change notification, the bot's pending updates, who
receives what (privacy mode), and the records (messages, files) the methods and people share."""

from __future__ import annotations

import asyncio
import itertools
import mimetypes
import time
from collections.abc import Callable
from typing import Any

from ..entities import command_of
from ..models import (
    GROUP_ANONYMOUS_BOT_ID,
    CallbackAnswer,
    CallbackQuery,
    Chat,
    Message,
    StoredFile,
    User,
)

# Updates Telegram does not send unless asked for by name in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class WorldState:
    """Users, chats, files, callback queries and the update queue; ``World`` adds what people do."""

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

    # ---- finding chats and users -----------------------------------------------------------

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

    # ---- who receives what -----------------------------------------------------------------

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

    def _service(
        self, chat: Chat, by: User, fields: dict[str, Any], *, sender_chat: Chat | None = None
    ) -> Message:
        message = Message(
            chat.next_message_id, chat, int(time.time()), by, sender_chat, service=fields
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return message

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
