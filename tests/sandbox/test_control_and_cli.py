"""The HTTP control API and the standalone command line."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox import BotApiServer, Limits, SandboxConfig
from sandbox.control import install_control

from .helpers import call, keyboard

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def controlled() -> AsyncIterator[BotApiServer]:
    server = BotApiServer(SandboxConfig(limits=Limits.off()))
    install_control(server)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def control(
    server: BotApiServer, verb: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(verb, f"{server.base_url}/control{path}", json=body) as response,
    ):
        return response.status, await response.json()


async def test_driving_the_world_over_http(controlled: BotApiServer) -> None:
    server = controlled
    status, siti = await control(server, "POST", "/users", {"first_name": "Siti"})
    assert status == 201
    _, budi = await control(server, "POST", "/users", {"first_name": "Budi"})
    status, group = await control(
        server,
        "POST",
        "/groups",
        {
            "title": "RT 05",
            "type": "supergroup",
            "admins": [siti["id"]],
            "members": [budi["id"]],
            "add_bot_by": siti["id"],
        },
    )
    assert status == 201 and group["bot_status"] == "member"

    status, sent = await control(
        server, "POST", "/send", {"user_id": budi["id"], "chat_id": group["id"], "text": "/jadwal"}
    )
    assert status == 201 and sent["entities"][0]["type"] == "bot_command"
    _, updates = await call(server, "getUpdates")
    assert updates["result"][-1]["message"]["text"] == "/jadwal"

    _, reply = await call(
        server, "sendMessage", chat_id=group["id"], text="Jadwal", reply_markup=keyboard("ok")
    )
    status, pressed = await control(
        server,
        "POST",
        "/press",
        {
            "user_id": budi["id"],
            "chat_id": group["id"],
            "message_id": reply["result"]["message_id"],
            "callback_data": "ok",
        },
    )
    assert status == 201
    _, callbacks = await control(server, "GET", "/callbacks")
    assert [q["id"] for q in callbacks["unanswered"]] == [pressed["callback_query_id"]]

    _, messages = await control(server, "GET", f"/chats/{group['id']}/messages")
    assert [m["text"] for m in messages if m.get("sent_by_bot")] == ["Jadwal"]
    _, calls = await control(server, "GET", "/calls?method=sendMessage")
    assert [c["status"] for c in calls] == [200]

    await control(
        server,
        "POST",
        "/document",
        {
            "user_id": siti["id"],
            "filename": "dpt.csv",
            "content_base64": base64.b64encode(b"a,b\n").decode(),
        },
    )
    status, _ = await control(server, "POST", f"/groups/{group['id']}/migrate", {})
    assert status == 400  # supergroups don't migrate: the test's mistake is reported, not hidden
    status, _ = await control(server, "DELETE", f"/groups/{group['id']}/bot", {})
    assert status == 200
    assert (await call(server, "sendMessage", chat_id=group["id"], text="x"))[0] == 403


async def test_limits_and_faults_over_http(controlled: BotApiServer) -> None:
    server = controlled
    _, siti = await control(server, "POST", "/users", {"first_name": "Siti", "started": True})
    status, _ = await control(server, "PUT", "/limits", {"enabled": True, "private_burst": 1})
    assert status == 200
    assert (await call(server, "sendMessage", chat_id=siti["id"], text="1"))[0] == 200
    assert (await call(server, "sendMessage", chat_id=siti["id"], text="2"))[0] == 429
    await control(server, "PUT", "/limits", {"enabled": False})
    status, _ = await control(
        server, "POST", "/faults", {"kind": "server_error", "method": "getMe", "times": 1}
    )
    assert status == 201
    assert (await call(server, "getMe"))[0] == 502
    assert (await call(server, "getMe"))[0] == 200


async def test_cli_serves_until_stopped() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys, sandbox.cli as c; sys.exit(c.main(['--port', '0', '--demo']))",
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert first.startswith("Bot API base URL: http://127.0.0.1:")
        api_url = first.split()[4]
        lines = [(await process.stdout.readline()).decode() for _ in range(3)]
        token = lines[1].split()[-1]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{api_url}{token}/getMe") as response:
                assert (await response.json())["result"]["is_bot"] is True
            async with session.get(f"{api_url}{token}/getUpdates") as response:
                kinds = [set(u) - {"update_id"} for u in (await response.json())["result"]]
                assert kinds == [{"my_chat_member"}, {"message"}]  # the demo group's join
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0
