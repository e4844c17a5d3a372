"""`python -m bot run` with WEBHOOK_URL under the single-instance lease (issue 11): two copies
on one database, one active; the standby serves /healthz and /metrics saying so, and takes over
(its own webhook) when the active one stops."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import pytest

from sandbox import SandboxConfig
from sandbox.testing import running_server
from tests.e2e.harness import free_port
from tests.e2e.test_crash_recovery import _env, _start_bot, _tail, _wait_for_text

SECRET = "uji-rahasia-webhook-lease-0123456789"


async def _get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text(), response.headers.get("X-Kentongan-Role", "")


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    return await process.wait()


@pytest.mark.long
async def test_two_webhook_copies_one_active_the_standby_healthy_then_taking_over(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'two.db'}"
    async with running_server(SandboxConfig()) as server:
        ports = free_port(), free_port()
        envs = [
            _env(
                server,
                url,
                WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_PORT=str(port),
            )
            for port in ports
        ]
        logs = tmp_path / "first.log", tmp_path / "second.log"
        warga = server.world.add_user("Warga", started=True)

        async def asks(expected_port: int) -> None:
            """A resident's question reaches the copy whose webhook is set, and is answered."""
            hook = server.calls_to("setWebhook")[-1].params["url"]
            assert hook == f"http://127.0.0.1:{expected_port}/telegram"
            before = len(server.world.bot_messages(warga))
            server.world.user_sends(warga, None, "/kapan")
            await server.wait_until(
                lambda: len(server.world.bot_messages(warga)) > before or None, timeout=20
            )

        first = await _start_bot(envs[0], logs[0])
        second: asyncio.subprocess.Process | None = None
        try:
            await _wait_for_text(logs[0], "is active", bound=60)
            await server.wait_until(lambda: server.calls_to("setWebhook") or None, timeout=30)
            second = await _start_bot(envs[1], logs[1])
            await _wait_for_text(logs[1], "this one waits as standby", bound=60)

            active = f"http://127.0.0.1:{ports[0]}"
            standby = f"http://127.0.0.1:{ports[1]}"
            status, body, role = await _get(f"{active}/healthz")
            assert (status, role) == (200, "active") and "role: active" in body, body
            status, body, role = await _get(f"{standby}/healthz")
            assert (status, role) == (200, "standby"), body
            assert "role: standby" in body and "lease: ok: standby:" in body
            assert "database: ok" in body
            assert (await _get(f"{active}/healthz/active"))[0] == 200
            assert (await _get(f"{standby}/healthz/active"))[0] == 503  # no webhooks here
            _, metrics, _ = await _get(f"{standby}/metrics")
            assert "kentongan_instance_active 0.0" in metrics
            _, metrics, _ = await _get(f"{active}/metrics")
            assert "kentongan_instance_active 1.0" in metrics

            await asks(ports[0])
            assert len(server.calls_to("setWebhook")) == 1  # the standby set nothing
            assert server.calls_to("getUpdates") == []  # and polled nothing

            assert await _stop(first) == 0
            await _wait_for_text(logs[1], "is active", bound=30)
            await server.wait_until(
                lambda: len(server.calls_to("setWebhook")) == 2 or None, timeout=30
            )
            await asks(ports[1])
            status, body, role = await _get(f"{standby}/healthz")
            assert (status, role) == (200, "active"), body
        except BaseException:
            print("first:", _tail(logs[0]), "\nsecond:", _tail(logs[1]))
            raise
        finally:
            await _stop(first)
            if second is not None:
                assert await _stop(second) == 0
