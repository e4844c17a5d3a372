"""Editing and deleting the bot's messages, and answering button presses."""

from __future__ import annotations

import time
from typing import Any

from .. import errors as E
from ..errors import ApiError, bad_request
from ..formatting import format_text
from ..world import CallbackAnswer, Chat, Message
from .base import MethodsBase


class EditingMethods(MethodsBase):
    def _message_to_edit(self, p: dict[str, Any]) -> Message:
        if "inline_message_id" in p:
            raise bad_request("MESSAGE_ID_INVALID")  # the sandbox has no inline messages
        if "chat_id" not in p:
            raise bad_request("chat_id is empty")
        if "message_id" not in p:
            raise bad_request("message identifier is not specified")
        chat = self.chat_for_send(p["chat_id"])
        message = chat.messages.get(p["message_id"])
        if message is None or message.deleted:
            raise bad_request(E.MESSAGE_TO_EDIT_NOT_FOUND)
        if not message.from_bot_self:
            raise bad_request("message can't be edited")
        return message

    def _finish_edit(self, message: Message, before: tuple[Any, ...]) -> dict[str, Any]:
        if self._snapshot(message) == before:
            raise bad_request(E.MESSAGE_NOT_MODIFIED)
        message.edit_date = int(time.time())
        return self._publish(message)

    @staticmethod
    def _snapshot(message: Message) -> tuple[Any, ...]:
        return (message.text, message.entities, message.caption, message.caption_entities,
                message.reply_markup)  # fmt: skip

    def m_editMessageText(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._message_to_edit(p)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = format_text(
            p["text"], p.get("parse_mode"), p.get("entities"), strict=self.options.strict
        )
        markup = self._check_markup(message.chat, p.get("reply_markup"))
        before = self._snapshot(message)
        # Telegram drops an inline keyboard that an edit doesn't repeat.
        message.text, message.entities, message.reply_markup = text, entities, markup
        try:
            return self._finish_edit(message, before)
        except ApiError:
            message.text, message.entities, message.reply_markup = before[0], before[1], before[4]
            raise

    def m_editMessageCaption(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._message_to_edit(p)
        if message.text is not None:
            raise bad_request("there is no caption in the message to edit")
        caption = self._caption(p)
        markup = self._check_markup(message.chat, p.get("reply_markup"))
        before = self._snapshot(message)
        message.caption, message.caption_entities = caption
        message.reply_markup = markup
        try:
            return self._finish_edit(message, before)
        except ApiError:
            message.caption, message.caption_entities = before[2], before[3]
            message.reply_markup = before[4]
            raise

    def m_editMessageReplyMarkup(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._message_to_edit(p)
        markup = self._check_markup(message.chat, p.get("reply_markup"))
        before = self._snapshot(message)
        message.reply_markup = markup
        try:
            return self._finish_edit(message, before)
        except ApiError:
            message.reply_markup = before[4]
            raise

    def _delete(self, chat: Chat, message_id: int) -> None:
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request(E.MESSAGE_TO_DELETE_NOT_FOUND)
        bot_is_admin = chat.bot_member is not None and chat.bot_member.is_admin
        if not (message.from_bot_self or chat.type == "private" or bot_is_admin):
            raise bad_request("message can't be deleted")
        message.deleted = True

    def m_deleteMessage(self, p: dict[str, Any]) -> bool:
        chat = self.chat_for_send(p["chat_id"])
        self._delete(chat, p["message_id"])
        self.world.changed()
        return True

    def m_deleteMessages(self, p: dict[str, Any]) -> bool:
        chat = self.chat_for_send(p["chat_id"])
        ids = p["message_ids"]
        if not 1 <= len(ids) <= 100:
            raise bad_request("too many messages to delete" if ids else "message_ids is empty")
        for message_id in ids:
            try:
                self._delete(chat, message_id)
            except ApiError:
                continue  # deleteMessages skips what it can't delete
        self.world.changed()
        return True

    # ---- callback queries ------------------------------------------------------------------

    def m_answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        query = self.world.callback_queries.get(p["callback_query_id"])
        too_old = (
            query is None
            or query.answered
            or time.monotonic() - query.created > self.options.callback_answer_timeout
        )
        if too_old:
            raise bad_request(E.QUERY_TOO_OLD)
        assert query is not None
        text = p.get("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        self.world.callback_answers.append(
            CallbackAnswer(query.id, text, bool(p.get("show_alert")), p.get("url"), time.time())
        )
        self.world.changed()
        return True
