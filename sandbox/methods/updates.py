"""getMe, logOut, close; getUpdates (long polling) and webhooks."""

from __future__ import annotations

from typing import Any

from .. import errors as E
from ..errors import ApiError, bad_request
from .base import MethodsBase


class UpdateMethods(MethodsBase):
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
        deadline = self.options.clock() + timeout
        while True:
            updates = world.pending_updates(offset, limit)
            if updates:
                return updates
            remaining = deadline - self.options.clock()
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
