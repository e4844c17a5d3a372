"""Running as the one active instance: standby until the lease is ours, a graceful stop.

`serve` is what `python -m bot run` does:

1. take the database lease (scheduler.lease); while another live copy holds it, say so once
   ("instance X is active since …; this one waits as standby") and wait;
2. with the lease, build the Application and poll; renew the lease in the background;
3. on SIGTERM/SIGINT: stop claiming, let sends in flight finish (≤ 5 s), write every result,
   give back unsent claims, stop polling, release the lease, exit 0. If the lease is lost
   (this process stalled and a standby took over) it stops the same way, with exit code 3.

State a health endpoint can read is on `Instance`: `role`, `lease`, `engine`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from bot.ops import LeaseStatus, ops_of
from bot.ops_standby import standby_ops
from bot.runner import polling
from bot.settings import Settings
from bot.storage import open_storage
from scheduler.clock import SystemClock
from scheduler.engine import BroadcastEngine, new_holder_id
from scheduler.lease import STANDBY_POLL, Holder, InstanceLease

log = logging.getLogger(__name__)

EXIT_LEASE_LOST = 3


class Instance:
    """This process: standby, active or stopping; what /healthz may show."""

    def __init__(self, lease: InstanceLease) -> None:
        self.lease = lease
        self.role = "starting"
        self.engine: BroadcastEngine | None = None
        self.stop_requested = asyncio.Event()
        self.lease_lost = False
        self.active_holder: str | None = None  # the copy holding the lease while we wait

    def lease_status(self) -> LeaseStatus:
        """For /healthz: active with the lease, or a standby waiting for it."""
        if self.lease.held and not self.lease_lost:
            since = self.lease.held_since.isoformat() if self.lease.held_since else "?"
            return LeaseStatus(held=True, detail=f"active: {self.lease.holder} since {since}")
        if self.role == "standby" and self.active_holder is not None:
            detail = f"standby: {self.active_holder} is active"
        else:
            detail = self.role
        return LeaseStatus(held=False, standby_ok=self.role == "standby", detail=detail)

    def request_stop(self) -> None:
        if not self.stop_requested.is_set():
            log.info("stop requested: finishing sends in flight, then exiting")
        self.stop_requested.set()

    async def wait_for_lease(self) -> bool:
        """True once the lease is ours; False if asked to stop first."""
        announced: Holder | None = None
        self.role = "standby"
        while not self.stop_requested.is_set():
            other = await self.lease.try_acquire()
            if other is None:
                return True
            self.active_holder = other.holder
            if announced is None or announced.holder != other.holder:
                line = (
                    f"instance {other.holder} is active since "
                    f"{other.acquired_at:%Y-%m-%d %H:%M:%S} UTC; this one waits as standby"
                )
                print(line, file=sys.stderr, flush=True)  # one line, whatever the log level
                announced = other
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_requested.wait(), timeout=STANDBY_POLL)
        return False

    async def keep_lease(self) -> None:
        """Renew every third of the lease; stop at once if it is no longer ours."""
        while not self.stop_requested.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_requested.wait(), timeout=self.lease.ttl / 3)
            if self.stop_requested.is_set():
                return
            try:
                renewed = await self.lease.renew()
            except Exception:
                log.exception("renewing the instance lease failed")
                continue
            if not renewed:
                log.error(
                    "the instance lease was taken by another copy (this one stalled longer "
                    "than %.0f s); stopping so that only one sends",
                    self.lease.ttl,
                )
                self.lease_lost = True
                self.request_stop()


def install_signal_handlers(instance: Instance) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # Windows
            loop.add_signal_handler(sig, instance.request_stop)


Transport = Callable[[Any], AbstractAsyncContextManager[Any]]


def _polling(application: Any) -> AbstractAsyncContextManager[Any]:
    return polling(application, poll_timeout=10)


async def serve(
    settings: Settings, build: Callable[[], Any], transport: Transport = _polling
) -> int:
    """Run as the one active instance; `transport` brings updates in (polling or a webhook)."""
    clock = SystemClock()
    engine, sessions = await open_storage(settings.database_url, settings.admin_ids, clock.now())
    lease = InstanceLease(sessions, new_holder_id())
    instance = Instance(lease)
    install_signal_handlers(instance)
    try:
        # A standby answers /healthz and /metrics too ("role: standby"), until the lease is ours.
        async with standby_ops(settings, sessions, instance.lease_status, lambda: instance.role):
            if not await instance.wait_for_lease():
                return 0
        instance.role = "active"
        log.info("instance %s is active", lease.holder)
        application = build()
        application.bot_data.instance = instance
        ops = ops_of(application)
        if ops is not None:
            ops.lease = instance.lease_status
            ops.role = lambda: instance.role
        keeper = asyncio.get_running_loop().create_task(instance.keep_lease())
        try:
            async with transport(application):
                services = application.bot_data.services
                instance.engine = services.broadcasts if services is not None else None
                await instance.stop_requested.wait()
                instance.role = "stopping"
        finally:
            instance.stop_requested.set()
            await keeper
        if not instance.lease_lost:
            await lease.release()
        return EXIT_LEASE_LOST if instance.lease_lost else 0
    finally:
        await engine.dispose()
