"""The Bot API methods the sandbox simulates, each answering as Telegram would.

A handler receives the parameters already checked and typed against the spec (see
``validation``) and returns the ``result`` of the answer, or raises ``ApiError``.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from . import errors as E
from .errors import ApiError, bad_request, forbidden
from .formatting import format_text
from .media import image_size
from .validation import UploadedFile
from .world import CallbackAnswer, Chat, Message, StoredFile, World

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_MAX_PHOTO = 10 * 1024 * 1024
_MAX_UPLOAD = 50 * 1024 * 1024
_MAX_DOWNLOAD = 20 * 1024 * 1024
# Fields of inline keyboard buttons that are not the button's action.
_BUTTON_DECOR = frozenset({"text", "icon_custom_emoji_id", "style"})

Handler = Callable[[dict[str, Any]], Any]


@dataclass
class MethodOptions:
    strict: bool = True
    callback_answer_timeout: float = 15.0
    max_poll_timeout: float = 50.0


class BotApi:
    """Method implementations over a World. ``handlers`` maps lower-case names to them."""

    def __init__(self, world: World, options: MethodOptions) -> None:
        self.world = world
        self.options = options
        self._poll_generation = 0
        self.polls_waiting = 0  # getUpdates calls holding a long poll open right now
        self.handlers: dict[str, Handler] = {
            name.lower(): getattr(self, f"m_{name}")
            for name in (
                "getMe", "logOut", "close", "getUpdates", "setWebhook", "deleteWebhook",
                "getWebhookInfo", "sendMessage", "sendPhoto", "sendDocument", "editMessageText",
                "editMessageCaption", "editMessageReplyMarkup", "deleteMessage", "deleteMessages",
                "answerCallbackQuery", "sendChatAction", "getChat", "getChatMember",
                "getChatAdministrators", "getChatMemberCount", "setMyCommands", "getMyCommands",
                "deleteMyCommands", "leaveChat", "getFile",
            )
        }  # fmt: skip

    def handler(self, method: str) -> Handler | None:
        return self.handlers.get(method)

    # ---- chats -----------------------------------------------------------------------------

    def chat_for_send(self, chat_id: int | str) -> Chat:
        """The chat the bot may write to, or Telegram's refusal."""
        chat = self.world.find_chat(chat_id)
        if chat is None:
            raise bad_request(E.CHAT_NOT_FOUND)
        if chat.migrated_to is not None:
            raise bad_request(E.GROUP_UPGRADED, {"migrate_to_chat_id": chat.migrated_to})
        if chat.type == "private":
            user = chat.user
            assert user is not None
            if user.deactivated:
                raise forbidden(E.USER_DEACTIVATED)
            if user.blocked_bot:
                raise forbidden(E.BOT_BLOCKED)
            if not user.started:
                raise forbidden(E.CANT_INITIATE)
            return chat
        member = chat.bot_member
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        if member is None or member.status == "left":
            raise forbidden(f"bot is not a member of the {kind}")
        if member.status == "kicked":
            raise forbidden(f"bot was kicked from the {kind}")
        return chat

    def chat_for_read(self, chat_id: int | str) -> Chat:
        chat = self.world.find_chat(chat_id)
        if chat is None or (chat.type == "private" and chat.user and not chat.user.started):
            raise bad_request(E.CHAT_NOT_FOUND)
        if chat.type != "private":
            return self.chat_for_send(chat_id)
        return chat

    # ---- bot and updates -------------------------------------------------------------------

    def m_getMe(self, p: dict[str, Any]) -> dict[str, Any]:
        me = self.world.bot.to_api()
        me.update(
            can_join_groups=True,
            can_read_all_group_messages=not self.world.privacy_mode,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
        )
        return me

    def m_logOut(self, p: dict[str, Any]) -> bool:
        return True

    def m_close(self, p: dict[str, Any]) -> bool:
        return True

    async def m_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        world = self.world
        if world.webhook_url:
            raise ApiError(409, E.CONFLICT_WEBHOOK)
        # A newer getUpdates ends an older one still waiting, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        if "allowed_updates" in p:
            allowed = p["allowed_updates"]
            world.allowed_updates = frozenset(allowed) if allowed else None
        offset = p.get("offset", 0)
        world.changed()  # wakes an older poll to be terminated, and wait_until(is_polling)
        limit = min(max(p.get("limit", 100), 1), 100)
        timeout = min(max(p.get("timeout", 0), 0), self.options.max_poll_timeout)
        deadline = time.monotonic() + timeout
        while True:
            updates = world.pending_updates(offset, limit)
            if updates:
                return updates
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self.polls_waiting += 1
            try:
                await world.wait_changed(remaining)
            finally:
                self.polls_waiting -= 1
            if generation != self._poll_generation:
                raise ApiError(409, E.CONFLICT_GET_UPDATES)

    def m_setWebhook(self, p: dict[str, Any]) -> bool:
        url = p["url"]
        if url and not url.startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if p.get("drop_pending_updates"):
            self.world.drop_pending_updates()
        if "allowed_updates" in p:
            allowed = p["allowed_updates"]
            self.world.allowed_updates = frozenset(allowed) if allowed else None
        self.world.webhook_url = url
        self.world.webhook_secret = p.get("secret_token")
        self.world.changed()
        return True

    def m_deleteWebhook(self, p: dict[str, Any]) -> bool:
        if p.get("drop_pending_updates"):
            self.world.drop_pending_updates()
        self.world.webhook_url = ""
        self.world.webhook_secret = None
        self.world.changed()
        return True

    def m_getWebhookInfo(self, p: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.world.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": self.world.pending_update_count,
        }
        if self.world.webhook_url:
            info["max_connections"] = 40
            if self.world.allowed_updates is not None:
                info["allowed_updates"] = sorted(self.world.allowed_updates)
            error = self.world.webhook_last_error
            if error:
                info["last_error_date"], info["last_error_message"] = error
        return info

    # ---- sending ---------------------------------------------------------------------------

    def _reply_target(self, chat: Chat, p: dict[str, Any]) -> Message | None:
        params = p.get("reply_parameters")
        if not params:
            return None
        if "chat_id" in params and self.world.find_chat(params["chat_id"]) is not chat:
            raise bad_request("message to be replied not found")
        target = chat.messages.get(params["message_id"])
        if target is None or target.deleted:
            if params.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return target

    def _check_markup(self, chat: Chat, markup: dict[str, Any] | None) -> dict[str, Any] | None:
        if not markup:
            return None
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup  # reply keyboards: nothing is stored to press
        if sum(len(row) for row in rows) > 100:
            raise bad_request("BUTTONS_TOO_MUCH")
        for row in rows:
            for button in row:
                if not set(button) - _BUTTON_DECOR:
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                if "callback_data" in button:
                    size = len(button["callback_data"].encode("utf-8"))
                    if not 1 <= size <= 64:
                        raise bad_request(E.BUTTON_DATA_INVALID)
                url = button.get("url")
                if url is not None and not url.startswith(("http://", "https://", "tg://")):
                    raise bad_request(
                        f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL"
                    )
        return markup

    def _new_message(self, chat: Chat, p: dict[str, Any]) -> Message:
        reply_to = self._reply_target(chat, p)
        markup = self._check_markup(chat, p.get("reply_markup"))
        message = self.world.new_bot_message(chat)
        message.reply_to = reply_to
        message.reply_markup = markup
        for key in ("parse_mode", "disable_notification", "protect_content"):
            if key in p:
                message.raw[key] = p[key]
        if chat.type == "supergroup" and chat.bot_member and chat.bot_member.is_anonymous:
            message.sender_chat = chat
        return message

    def _publish(self, message: Message) -> dict[str, Any]:
        self.world.changed()
        return message.to_api()

    def m_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat_for_send(p["chat_id"])
        text, entities = format_text(
            p["text"], p.get("parse_mode"), p.get("entities"), strict=self.options.strict
        )
        message = self._new_message(chat, p)
        message.text, message.entities = text, entities
        return self._publish(message)

    def _caption(self, p: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]] | None]:
        if "caption" not in p:
            return None, None
        caption, entities = format_text(
            p["caption"],
            p.get("parse_mode"),
            p.get("caption_entities"),
            caption=True,
            strict=self.options.strict,
        )
        return (caption, entities) if caption else (None, None)

    def _file(self, value: UploadedFile | str, kind: str) -> StoredFile:
        """The stored file a send uploads, or refers to by file_id."""
        if isinstance(value, UploadedFile):
            limit = _MAX_PHOTO if kind == "photos" else _MAX_UPLOAD
            if len(value.data) > limit:
                raise ApiError(413, "Request Entity Too Large")
            if not value.data:
                raise bad_request("file must be non-empty")
            ctype = value.content_type
            mime = None if ctype in ("", "application/octet-stream") else ctype
            return self.world.store_file(value.data, value.filename, mime, kind=kind)
        stored = self.world.files.get(value)
        if stored is not None:
            return stored
        if value.startswith(("http://", "https://")):
            # No internet here: the sandbox can't fetch the URL, so it stands in an empty file.
            name = value.rsplit("/", 1)[-1] or None
            return self.world.store_file(b"", name, None, kind=kind)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def m_sendPhoto(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat_for_send(p["chat_id"])
        stored = self._file(p["photo"], "photos")
        size = image_size(stored.data) if stored.data else (1, 1)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        if width + height > 10000 or max(width, height) > 20 * max(1, min(width, height)):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        caption = self._caption(p)
        message = self._new_message(chat, p)
        message.caption, message.caption_entities = caption
        sizes = []
        if max(width, height) > 320:
            scale = 320 / max(width, height)
            sizes.append(
                {
                    "file_id": stored.file_id + "_s",
                    "file_unique_id": stored.file_unique_id + "s",
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                    "file_size": max(1, len(stored.data) // 8),
                }
            )
        sizes.append(
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": width,
                "height": height,
                "file_size": len(stored.data),
            }
        )
        message.photo = sizes
        return self._publish(message)

    def m_sendDocument(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat_for_send(p["chat_id"])
        caption = self._caption(p)
        stored = self._file(p["document"], "documents")
        message = self._new_message(chat, p)
        message.caption, message.caption_entities = caption
        message.document = self.world.document_api(stored)
        return self._publish(message)

    def m_sendChatAction(self, p: dict[str, Any]) -> bool:
        chat = self.chat_for_send(p["chat_id"])
        if p["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.world.chat_actions.append((chat.id, p["action"], time.time()))
        self.world.changed()
        return True

    # ---- editing and deleting --------------------------------------------------------------

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

    # ---- chats and members -----------------------------------------------------------------

    def m_getChat(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat_for_read(p["chat_id"])
        info = chat.to_api()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        )
        if chat.description:
            info["description"] = chat.description
        if chat.is_group:
            info["permissions"] = {"can_send_messages": True}
        return info

    def m_getChatMember(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat_for_read(p["chat_id"])
        user_id = p["user_id"]
        user = self.world.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if chat.type == "private":
            if user_id not in (chat.id, self.world.bot.id):
                raise bad_request("user not found")
            return {"status": "member", "user": user.to_api()}
        if user_id == self.world.bot.id and chat.bot_member is not None:
            return chat.bot_member.to_api()
        member = chat.members.get(user_id)
        if member is None:
            return {"status": "left", "user": user.to_api()}
        return member.to_api()

    def m_getChatAdministrators(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self.chat_for_read(p["chat_id"])
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [m.to_api() for m in chat.admins()]
        if chat.bot_member is not None and chat.bot_member.is_admin:
            admins.append(chat.bot_member.to_api(can_be_edited=False))
        return admins

    def m_getChatMemberCount(self, p: dict[str, Any]) -> int:
        chat = self.chat_for_read(p["chat_id"])
        if chat.type == "private":
            return 2
        bot = 1 if chat.bot_member is not None and chat.bot_member.is_present else 0
        return len(chat.present_members()) + bot

    def m_leaveChat(self, p: dict[str, Any]) -> bool:
        chat = self.chat_for_read(p["chat_id"])
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        self.world.remove_bot(chat)
        return True

    # ---- commands --------------------------------------------------------------------------

    def _scope_key(self, p: dict[str, Any]) -> tuple[str, int | None, int | None, str]:
        scope = p.get("scope") or {"type": "default"}
        kind = scope["type"]
        chat_id: int | None = None
        user_id: int | None = None
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat = self.world.find_chat(scope["chat_id"])
            if chat is None:
                raise bad_request(E.CHAT_NOT_FOUND)
            chat_id = chat.id
            if kind != "chat" and chat.type == "private":
                raise bad_request("can't use this scope in a private chat")
        if kind == "chat_member":
            user_id = scope["user_id"]
            if user_id not in self.world.users:
                raise bad_request("user not found")
        language = p.get("language_code", "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return kind, chat_id, user_id, language

    def m_setMyCommands(self, p: dict[str, Any]) -> bool:
        commands = p["commands"]
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"].strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(p)
        if commands:
            self.world.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.world.commands.pop(key, None)
        self.world.changed()
        return True

    def m_getMyCommands(self, p: dict[str, Any]) -> list[dict[str, str]]:
        return self.world.commands.get(self._scope_key(p), [])

    def m_deleteMyCommands(self, p: dict[str, Any]) -> bool:
        self.world.commands.pop(self._scope_key(p), None)
        self.world.changed()
        return True

    # ---- files -----------------------------------------------------------------------------

    def m_getFile(self, p: dict[str, Any]) -> dict[str, Any]:
        stored = self.world.files.get(p["file_id"].removesuffix("_s"))
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > _MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return {
            "file_id": p["file_id"],
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


async def maybe_await(value: Any | Awaitable[Any]) -> Any:
    if asyncio.iscoroutine(value):
        return await value
    return value
