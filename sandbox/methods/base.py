"""What every method family shares: the options, the world, and Telegram's rules for which
chats the bot may read and write, and how a message's content is checked and published."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import errors as E
from ..errors import bad_request, forbidden
from ..formatting import format_text
from ..world import Chat, Message, World

# Fields of inline keyboard buttons that are not the button's action.
_BUTTON_DECOR = frozenset({"text", "icon_custom_emoji_id", "style"})


@dataclass
class MethodOptions:
    strict: bool = True
    callback_answer_timeout: float = 15.0
    max_poll_timeout: float = 50.0
    # What a long poll's deadline is measured on; a test replaces it to end polls on demand.
    clock: Callable[[], float] = time.monotonic


class MethodsBase:
    """The state the method families (mixed into ``BotApi``) work on."""

    def __init__(self, world: World, options: MethodOptions) -> None:
        self.world = world
        self.options = options
        self._poll_generation = 0
        self.polls_waiting = 0  # getUpdates calls holding a long poll open right now

    # ---- chats -----------------------------------------------------------------------------

    def chat_for_send(self, chat_id: int | str) -> Chat:
        """The chat the bot may write to, or Telegram's refusal."""
        chat = self._chat_with_bot(chat_id)
        member = chat.bot_member
        if member is not None and (
            member.status == "restricted"
            or (member.status == "member" and not chat.members_can_send)
        ):
            raise bad_request(E.NOT_ENOUGH_RIGHTS)
        return chat

    def _chat_with_bot(self, chat_id: int | str) -> Chat:
        """A private chat the bot may write to, or a group the bot is still in."""
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
            # A bot that may not send (restricted) still reads the chat, as in Telegram.
            return self._chat_with_bot(chat_id)
        return chat

    # ---- message content, for sending and editing -----------------------------------------

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

    def _publish(self, message: Message) -> dict[str, Any]:
        self.world.changed()
        return message.to_api()
