"""Group commit for check-in presses, as ``domain.acks.AckWriter`` does for "Sudah dibaca".

Whoever presses while a batch is written waits for the next one; there is no timer, so under
light load a press is written at once in its own transaction and under a burst the batches
grow by themselves (up to `max_batch`). A press's result comes back only once its row is
committed: the presser is told "tercatat" only for what is durable.

A batch that fails (after retrying contention) is written again press by press, each in its
own transaction, so one bad press fails alone and the others are kept. A graceful stop loses
nothing: PTB waits for the press handlers, which wait here; `drain()` waits for the rest.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from datetime import datetime

from db.engine import SessionFactory
from db.retry import retrying
from domain.checkins import AnswerResult, DeliveryKey, Press, ReportOpener, record_answers

log = logging.getLogger(__name__)

_Pending = tuple[Press, datetime, "asyncio.Future[AnswerResult]"]


class CheckInWriter:
    """Writes presses in batches; `opener()` gives the report store at write time."""

    def __init__(
        self, sessions: SessionFactory, opener: Callable[[], ReportOpener], *, max_batch: int = 200
    ) -> None:
        self.sessions = sessions
        self.opener = opener
        self.max_batch = max(1, max_batch)
        self._pending: list[_Pending] = []
        self._drainer: asyncio.Task[None] | None = None
        # Sent deliveries never change their message: a cache spares the look-up.
        self._deliveries: dict[DeliveryKey, tuple[int, int]] = {}
        self.batches = 0  # for benchmarks and tests: transactions committed
        self.singles = 0  # presses written alone after their batch failed

    async def record(self, press: Press, now: datetime) -> AnswerResult:
        """Keep `press` (pressed at `now`); returns once it is committed, or raises."""
        future: asyncio.Future[AnswerResult] = asyncio.get_running_loop().create_future()
        self._pending.append((press, now, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return await future

    @property
    def waiting(self) -> int:
        return len(self._pending)

    async def drain(self) -> None:
        """Wait until everything submitted so far is written."""
        while self._drainer is not None and not self._drainer.done():
            await asyncio.shield(self._drainer)

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: len(batch)]
            try:
                results = await self._write_retrying(batch)
            except Exception:
                log.exception("writing %d check-in press(es) failed; one by one now", len(batch))
                await self._one_by_one(batch)
                continue
            for (_, _, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _one_by_one(self, batch: list[_Pending]) -> None:
        for item in batch:
            future = item[2]
            try:
                (result,) = await self._write_retrying([item])
            except Exception as exc:
                log.exception("a check-in press could not be written")
                if not future.done():
                    future.set_exception(exc)
                continue
            self.singles += 1
            if not future.done():
                future.set_result(result)

    async def _write_retrying(self, batch: list[_Pending]) -> list[AnswerResult]:
        # A lock held past the busy timeout delays the batch; it is not lost.
        return await retrying(
            functools.partial(self._write, [(p, now) for p, now, _ in batch]),
            "writing check-in presses",
        )

    async def _write(self, presses: list[tuple[Press, datetime]]) -> list[AnswerResult]:
        if len(self._deliveries) > 200_000:
            self._deliveries.clear()
        async with self.sessions.begin() as session:
            results = await record_answers(session, presses, self.opener(), self._deliveries)
        self.batches += 1
        return results
