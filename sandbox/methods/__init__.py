"""The Bot API methods the sandbox simulates, each answering as Telegram would.

A handler receives the parameters already checked and typed against the spec (see
``validation``) and returns the ``result`` of the answer, or raises ``ApiError``. The methods
live by family in this package's modules and are mixed into ``BotApi``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ..world import World
from .base import MethodOptions
from .chats import ChatMethods
from .commands import CommandAndFileMethods
from .editing import EditingMethods
from .sending import CHAT_ACTIONS, SendingMethods
from .updates import UpdateMethods

__all__ = ["CHAT_ACTIONS", "BotApi", "Handler", "MethodOptions", "maybe_await"]

Handler = Callable[[dict[str, Any]], Any]


class BotApi(UpdateMethods, SendingMethods, EditingMethods, ChatMethods, CommandAndFileMethods):
    """Method implementations over a World. ``handlers`` maps lower-case names to them."""

    def __init__(self, world: World, options: MethodOptions) -> None:
        super().__init__(world, options)
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


async def maybe_await(value: Any | Awaitable[Any]) -> Any:
    if asyncio.iscoroutine(value):
        return await value
    return value
