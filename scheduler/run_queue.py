"""The deliveries one run of a broadcast holds: claimed in batches, handed to the workers,
put back for a retry after a delay.

Claims run ahead of sends by at most one batch: that bounds what a crash may send twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from db.retry import retrying
from scheduler.ledger import Claimed


@dataclass(slots=True)  # one per delivery: 100,000 of them for a city-wide broadcast
class Item:
    delivery_id: int
    group_id: int
    chat_id: int
    attempts: int = 0
    waits: int = 0
    failures: int = 0  # transient failures outside an outage (the budget of a broadcast that
    # never expires)


class RunQueue:
    def __init__(
        self,
        claim: Callable[[], Awaitable[list[Claimed] | None]],
        still_open: Callable[[], Awaitable[int]],
        *,
        give_up: Callable[[], bool],
        on_cancelled: Callable[[], None],
        poll: float,
    ) -> None:
        self._claim = claim  # None: the broadcast was cancelled in the database
        self._still_open = still_open  # anyone (another engine, a dead one) still holds rows
        self.give_up = give_up
        self._on_cancelled = on_cancelled
        self._poll = poll
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._claim_lock = asyncio.Lock()
        self._retrying: set[asyncio.Task[None]] = set()
        self._held: set[int] = set()  # delivery ids this run holds: queued, in flight, waiting

    async def next(self) -> Item | None:
        """The next delivery to send, or None when this run has nothing more to do."""
        queue, held = self._queue, self._held
        while True:
            if self.give_up():
                return None
            if not queue.empty():
                return queue.get_nowait()
            async with self._claim_lock:
                if not queue.empty():
                    continue
                claimed = await retrying(self._claim, "claiming deliveries")
                if claimed is None:  # cancelled in the database, maybe by another process
                    self._on_cancelled()
                    return None
                fresh = [c for c in claimed if c.delivery_id not in held]
                for c in fresh:
                    held.add(c.delivery_id)
                    queue.put_nowait(Item(c.delivery_id, c.group_id, c.chat_id, c.attempts))
                # A retry may have come back while the claim ran: look at the queue again.
                if fresh or not queue.empty():
                    continue
                if not self._retrying:
                    if held:  # the other workers' sends in flight: they finish the run
                        return None
                    # Nothing left here; is anyone else (another engine, or a dead one whose
                    # claims have not run out yet) still holding rows of this broadcast?
                    if not await self._still_open():
                        return None
            if self._retrying:
                await asyncio.wait(
                    set(self._retrying), timeout=self._poll, return_when=asyncio.FIRST_COMPLETED
                )
            else:
                await asyncio.sleep(self._poll)

    def again(self, item: Item) -> None:
        """Send it again as soon as a worker is free."""
        self._queue.put_nowait(item)

    def later(self, item: Item, delay: float) -> None:
        """Send it again after `delay` seconds."""

        async def _requeue() -> None:
            await asyncio.sleep(delay)
            self._queue.put_nowait(item)

        task = asyncio.get_running_loop().create_task(_requeue())
        self._retrying.add(task)
        task.add_done_callback(self._retrying.discard)

    def done(self, item: Item) -> None:
        """This run sends it no more (sent, failed, skipped)."""
        self._held.discard(item.delivery_id)

    def close(self) -> None:
        for task in list(self._retrying):
            task.cancel()
