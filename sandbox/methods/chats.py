"""Chats and members as the bot reads them (getChat, getChatMember, ...), and leaveChat."""

from __future__ import annotations

from typing import Any

from ..errors import bad_request
from .base import MethodsBase


class ChatMethods(MethodsBase):
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
            info["permissions"] = {"can_send_messages": chat.members_can_send}
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
