"""Typed callback context: handlers reach the services through `context.services`."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.services import Services
from domain.inbox_notices import NoticeThrottle


class BotData:
    """application.bot_data: holds the services once post_init has made them."""

    def __init__(self) -> None:
        self.services: Services | None = None
        # bot.instance.Instance when run as `python -m bot run` (role, lease, engine state).
        self.instance: Any = None
        # bot.field_posting.Poster: the tasks posting field cases into each posko.
        self.field_poster: Any = None
        # When each official was last told of questions in their inbox (bot.question_notices).
        self.inbox_notices = NoticeThrottle()


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:  # only before post_init, which PTB runs before any update
            raise RuntimeError("services are not ready yet")
        return services
