"""What the world is made of: users, members, chats, messages, files, callback queries.

Each knows how to show itself as Bot API JSON (``to_api``); the World changes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

GROUP_ANONYMOUS_BOT_ID = 1087968824

ChatType = Literal["private", "group", "supergroup", "channel"]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]


@dataclass(eq=False)
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "id"
    is_bot: bool = False
    started: bool = False  # has pressed Start in the bot's private chat
    blocked_bot: bool = False
    deactivated: bool = False

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code and not self.is_bot:
            out["language_code"] = self.language_code
        return out

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass(eq=False)
class Member:
    user: User
    status: MemberStatus = "member"
    is_anonymous: bool = False
    custom_title: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.status in ("creator", "administrator")

    @property
    def is_present(self) -> bool:
        return self.status in ("creator", "administrator", "member", "restricted")

    def to_api(self, can_be_edited: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "user": self.user.to_api()}
        if self.status == "creator":
            out["is_anonymous"] = self.is_anonymous
            if self.custom_title:
                out["custom_title"] = self.custom_title
        elif self.status == "administrator":
            out.update(
                can_be_edited=can_be_edited,
                is_anonymous=self.is_anonymous,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=True,
                can_restrict_members=True,
                can_promote_members=False,
                can_change_info=True,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
                can_pin_messages=True,
            )
            if self.custom_title:
                out["custom_title"] = self.custom_title
        elif self.status == "kicked":
            out["until_date"] = 0
        elif self.status == "restricted":
            out.update(
                is_member=True,
                can_send_messages=False,
                can_send_audios=False,
                can_send_documents=False,
                can_send_photos=False,
                can_send_videos=False,
                can_send_video_notes=False,
                can_send_voice_notes=False,
                can_send_polls=False,
                can_send_other_messages=False,
                can_add_web_page_previews=False,
                can_react_to_messages=False,
                can_edit_tag=False,
                can_change_info=False,
                can_invite_users=False,
                can_pin_messages=False,
                can_manage_topics=False,
                until_date=0,
            )
        return out


@dataclass(eq=False)
class Chat:
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    user: User | None = None  # the other party of a private chat
    members: dict[int, Member] = field(default_factory=dict)
    bot_member: Member | None = None  # None: the bot was never in this group
    migrated_to: int | None = None
    migrated_from: int | None = None
    # The members' default permission to send messages (getChat's permissions.can_send_messages)
    members_can_send: bool = True
    description: str | None = None
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            out.update(
                {
                    k: v
                    for k, v in self.user.to_api().items()
                    if k in ("first_name", "last_name", "username")
                }
            )
        else:
            out["title"] = self.title
            if self.username:
                out["username"] = self.username
        return out

    def admins(self) -> list[Member]:
        return [m for m in self.members.values() if m.is_admin]

    def present_members(self) -> list[Member]:
        return [m for m in self.members.values() if m.is_present]


@dataclass(eq=False)
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str


@dataclass(eq=False)
class Message:
    message_id: int
    chat: Chat
    date: int
    from_user: User | None
    sender_chat: Chat | None = None
    text: str | None = None
    entities: list[dict[str, Any]] | None = None
    caption: str | None = None
    caption_entities: list[dict[str, Any]] | None = None
    reply_markup: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    location: dict[str, Any] | None = None  # Location: latitude, longitude (Bot API)
    reply_to: Message | None = None
    edit_date: int | None = None
    deleted: bool = False
    sent_by_bot: bool = False  # sent by the bot under test through the API
    # Service message fields (new_chat_members, migrate_to_chat_id, ...), already in API form.
    service: dict[str, Any] = field(default_factory=dict)
    # What the bot asked for that the stored message doesn't show (parse_mode, ...).
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def from_bot_self(self) -> bool:
        return self.sent_by_bot

    @property
    def is_service(self) -> bool:
        return bool(self.service)

    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard's buttons, row by row, flattened."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [b for row in self.reply_markup["inline_keyboard"] for b in row]

    def button(self, text: str) -> dict[str, Any]:
        for b in self.buttons():
            if b.get("text") == text:
                return b
        raise LookupError(f"no button {text!r} in message {self.message_id}")

    def to_api(self, *, with_reply: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.to_api(),
        }
        if self.from_user is not None:
            out["from"] = self.from_user.to_api()
        if self.sender_chat is not None:
            out["sender_chat"] = self.sender_chat.to_api()
        if self.reply_to is not None and with_reply:
            out["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.edit_date is not None:
            out["edit_date"] = self.edit_date
        if self.text is not None:
            out["text"] = self.text
            if self.entities:
                out["entities"] = self.entities
        if self.document is not None:
            out["document"] = self.document
        if self.photo is not None:
            out["photo"] = self.photo
        if self.location is not None:
            out["location"] = self.location
        if self.caption is not None:
            out["caption"] = self.caption
            if self.caption_entities:
                out["caption_entities"] = self.caption_entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            out["reply_markup"] = self.reply_markup
        out.update(self.service)
        return out


@dataclass(eq=False)
class CallbackQuery:
    id: str
    user: User
    message: Message
    data: str
    created: float
    answered: bool = False

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.user.to_api(),
            "message": self.message.to_api(),
            "chat_instance": str(abs(hash((self.message.chat.id, "instance"))) % 10**19),
            "data": self.data,
        }


@dataclass(frozen=True)
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    at: float
