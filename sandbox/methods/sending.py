"""sendMessage, sendPhoto, sendDocument, sendChatAction: new messages from the bot."""

from __future__ import annotations

import time
from typing import Any

from ..errors import ApiError, bad_request
from ..formatting import format_text
from ..media import image_size
from ..validation import UploadedFile
from ..world import Chat, Message, StoredFile
from .base import MethodsBase

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
_MAX_PHOTO = 10 * 1024 * 1024
_MAX_UPLOAD = 50 * 1024 * 1024


class SendingMethods(MethodsBase):
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

    def m_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat_for_send(p["chat_id"])
        text, entities = format_text(
            p["text"], p.get("parse_mode"), p.get("entities"), strict=self.options.strict
        )
        message = self._new_message(chat, p)
        message.text, message.entities = text, entities
        return self._publish(message)

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
