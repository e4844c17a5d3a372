"""What users do (write, send files, edit, press buttons) and what a test reads back."""

from __future__ import annotations

import time
from typing import Any

from ..entities import find_entities
from ..media import image_size
from ..models import GROUP_ANONYMOUS_BOT_ID, CallbackQuery, Chat, Message, User
from .state import WorldState


class UserActions(WorldState):
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

    def user_sends_photo(
        self,
        user: User,
        chat: Chat | User | int | None,
        data: bytes,
        *,
        caption: str | None = None,
        reply_to: Message | int | None = None,
    ) -> Message:
        """A photo as Telegram delivers one: PhotoSize entries, the largest last; the bot may
        send it on by its file_id."""
        target = self.chats[user.id] if chat is None else self.chat(chat)
        self._check_can_post(user, target)
        size = image_size(data)
        if size is None:
            raise ValueError("a photo must be a PNG, JPEG, GIF or WebP image")
        stored = self.store_file(data, None, "image/jpeg", kind="photos")
        message = self._user_message(user, target, reply_to, None)
        message.photo = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": size[0],
                "height": size[1],
                "file_size": len(data),
            }
        ]
        if caption:
            message.caption = caption
            message.caption_entities = find_entities(caption) or None
        self._deliver_message(message)
        return message

    def user_sends_location(
        self,
        user: User,
        chat: Chat | User | int | None,
        latitude: float,
        longitude: float,
        *,
        reply_to: Message | int | None = None,
    ) -> Message:
        target = self.chats[user.id] if chat is None else self.chat(chat)
        self._check_can_post(user, target)
        message = self._user_message(user, target, reply_to, None)
        message.location = {"latitude": latitude, "longitude": longitude}
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
