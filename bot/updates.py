"""Reading updates safely: one the client cannot parse is skipped once, not fetched forever.

python-telegram-bot parses a getUpdates batch as a whole; one update it cannot read (a Bot API
server newer than the pinned client, a malformed object) fails the batch, the offset never
moves, and the same batch comes back on every poll — the bot stops for everyone and the log
fills with the raw updates. The transport below reads the batch first: an update that does not
parse is logged once (its id and kind only, no personal data) and replaced by a bare
``{"update_id": N}``, which no handler matches and which moves the offset past it, so Telegram
forgets it.

Polling errors are logged by kind and at a bounded rate: getUpdates ``Conflict`` (someone else
polls with this token) once, with what to do about it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.error import Conflict, NetworkError, TelegramError
from telegram.ext import SimpleUpdateProcessor
from telegram.request import HTTPXRequest, RequestData

log = logging.getLogger(__name__)

# At most this many skipped-update lines, then one line per SKIP_LOG_EVERY more.
SKIP_LOG_FIRST = 20
SKIP_LOG_EVERY = 1000


class SkippedUpdates:
    """Counts and logs updates this client cannot read: a few lines, never one per update."""

    def __init__(self) -> None:
        self.skipped = 0

    def log(self, update_id: object, raw: object) -> None:
        self.skipped += 1
        if self.skipped <= SKIP_LOG_FIRST or self.skipped % SKIP_LOG_EVERY == 0:
            kinds = [k for k in raw if k != "update_id"] if isinstance(raw, dict) else []
            log.warning(
                "update %s (%s) cannot be read by this python-telegram-bot; skipped and "
                "confirmed (%d so far)",
                update_id,
                ",".join(str(k)[:40] for k in kinds[:3]) or type(raw).__name__,
                self.skipped,
            )


def parse_update(raw: object, bot: Any) -> Update | None:
    """The Update PTB builds from `raw`, or None when it cannot (a newer server's kind)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
        return None
    try:
        return Update.de_json(raw, bot)
    except Exception:
        return None


class SkippingUpdatesRequest(HTTPXRequest):
    """PTB's getUpdates transport, with unreadable updates reduced to their update_id."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("connection_pool_size", 1)
        super().__init__(**kwargs)
        self._skips = SkippedUpdates()

    @property
    def skipped(self) -> int:
        return self._skips.skipped

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        status, payload = await super().do_request(url, method, request_data, *args, **kwargs)
        if status == 200 and url.endswith("/getUpdates"):
            payload = self.sanitize(payload)
        return status, payload

    def sanitize(self, payload: bytes) -> bytes:
        try:
            answer = json.loads(payload)
        except ValueError:
            return payload  # PTB reports a broken answer itself
        result = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(result, list):
            return payload
        kept: list[Any] = []
        changed = False
        for raw in result:
            if _readable(raw):
                kept.append(raw)
                continue
            changed = True
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            self._skips.log(update_id, raw)
            if isinstance(update_id, int):
                kept.append({"update_id": update_id})  # confirms it with the next offset
        if not changed:
            return payload
        answer["result"] = kept
        return json.dumps(answer).encode()


def _readable(raw: object) -> bool:
    return parse_update(raw, None) is not None


class PollingErrors:
    """The Updater's error callback: each kind of failure logged at a bounded rate."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self.conflicts = 0
        self._last: dict[str, float] = {}

    def __call__(self, exc: TelegramError) -> None:
        if isinstance(exc, Conflict):
            self.conflicts += 1
            if self.conflicts == 1:
                log.error(
                    "Telegram says another program is fetching updates with this bot token "
                    "(%s). Only one may: stop the other copy of the bot (one running on another "
                    "database, or another tool using this token), or give this one its own token "
                    "from @BotFather. Retrying quietly meanwhile.",
                    exc.message,
                )
            return
        kind = "network" if isinstance(exc, NetworkError) else type(exc).__name__
        now = time.monotonic()
        if now - self._last.get(kind, -self.every) >= self.every:
            self._last[kind] = now
            log.warning("polling for updates failed (%s); retrying: %s", kind, exc.message)


class InteractiveFirstProcessor(SimpleUpdateProcessor):
    """`concurrent_updates(n)`, except that button presses never wait for a slot.

    Replies to residents wait on the reply rate limiter while holding a slot; with a surge of
    questions every slot is taken and a press of "✅ Sudah dibaca" would queue behind them past
    Telegram's 15 s answer window. A press is answered by its own short path (the AckWriter and
    a limiter-free bot), so it goes at once.
    """

    # PTB declares process_update final (for typing only); bypassing the slots for presses is
    # exactly the one thing this class is for.
    async def process_update(  # type: ignore[misc]
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        if isinstance(update, Update) and update.callback_query is not None:
            await self.do_process_update(update, coroutine)
        else:
            await super().process_update(update, coroutine)
