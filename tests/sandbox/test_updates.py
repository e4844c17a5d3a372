"""Long polling, confirmation by offset, allowed_updates, conflicts and webhooks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from sandbox import BotApiServer, Limits
from sandbox.errors import CONFLICT_GET_UPDATES, CONFLICT_WEBHOOK

from .helpers import FakeClock, call

pytestmark = pytest.mark.sandbox(limits=Limits.off())


async def test_long_poll_returns_as_soon_as_an_update_arrives(bot_api_server: BotApiServer):
    # The poll's clock stands still: only an update can end it, never its time-out.
    bot_api_server.api.options.clock = FakeClock()
    siti = bot_api_server.world.add_user("Siti")
    poll = asyncio.create_task(call(bot_api_server, "getUpdates", timeout=10))
    await bot_api_server.wait_until(lambda: bot_api_server.is_polling)
    assert not poll.done()
    bot_api_server.world.user_sends(siti, None, "/start")
    status, body = await asyncio.wait_for(poll, 5)
    assert status == 200 and body["result"][0]["message"]["text"] == "/start"


async def test_long_poll_waits_out_its_timeout_when_nothing_happens(bot_api_server: BotApiServer):
    clock = bot_api_server.api.options.clock = FakeClock()
    world = bot_api_server.world
    siti = world.add_user("Siti")
    group = world.add_group("RT 01", admins=[siti])  # the bot is not in it
    poll = asyncio.create_task(call(bot_api_server, "getUpdates", timeout=10))
    await bot_api_server.wait_until(lambda: bot_api_server.is_polling)

    # A second before the deadline something happens that is no update for the bot: the poll
    # wakes, reads its clock, and waits on.
    clock.now += 9
    reads = clock.reads
    world.user_sends(siti, group, "halo")
    await bot_api_server.wait_until(lambda: clock.reads > reads and bot_api_server.is_polling)
    assert not poll.done()

    clock.now += 1  # the deadline: the next look ends the poll, empty
    world.changed()
    assert await asyncio.wait_for(poll, 5) == (200, {"ok": True, "result": []})
    assert not bot_api_server.is_polling


async def test_a_second_poller_terminates_the_first(bot_api_server: BotApiServer):
    first = asyncio.create_task(call(bot_api_server, "getUpdates", timeout=5))
    await bot_api_server.wait_until(lambda: bot_api_server.is_polling)
    second = asyncio.create_task(call(bot_api_server, "getUpdates", timeout=0))
    assert await asyncio.wait_for(first, 5) == (
        409,
        {"ok": False, "error_code": 409, "description": CONFLICT_GET_UPDATES},
    )
    assert (await second)[0] == 200


async def test_offset_confirms_and_limit_caps(bot_api_server: BotApiServer):
    world = bot_api_server.world
    siti = world.add_user("Siti")
    for i in range(5):
        world.user_sends(siti, None, f"pesan {i}")
    _, body = await call(bot_api_server, "getUpdates", limit=2)
    assert [u["update_id"] for u in body["result"]] == [1, 2]
    _, body = await call(bot_api_server, "getUpdates", offset=3)
    assert [u["update_id"] for u in body["result"]] == [3, 4, 5]
    _, body = await call(bot_api_server, "getUpdates", offset=-1)
    assert [u["update_id"] for u in body["result"]] == [5]
    _, body = await call(bot_api_server, "getUpdates", offset=6)
    assert body["result"] == []
    assert world.pending_update_count == 0


async def test_allowed_updates_filters_and_persists(bot_api_server: BotApiServer):
    world = bot_api_server.world
    siti = world.add_user("Siti")
    await call(bot_api_server, "getUpdates", allowed_updates=["callback_query"])
    world.user_sends(siti, None, "tidak diminta")
    assert (await call(bot_api_server, "getUpdates"))[1]["result"] == []
    await call(bot_api_server, "getUpdates", allowed_updates=[])  # back to the default set
    world.user_sends(siti, None, "diminta")
    _, body = await call(bot_api_server, "getUpdates")
    assert [u["message"]["text"] for u in body["result"]] == ["diminta"]


async def test_webhook_blocks_polling_and_receives_updates(bot_api_server: BotApiServer):
    received: list[dict[str, Any]] = []
    secrets: list[str | None] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}/hook"
        status, _ = await call(bot_api_server, "setWebhook", url=url, secret_token="rahasia")
        assert status == 200
        assert await call(bot_api_server, "getUpdates") == (
            409,
            {"ok": False, "error_code": 409, "description": CONFLICT_WEBHOOK},
        )
        _, info = await call(bot_api_server, "getWebhookInfo")
        assert info["result"]["url"] == url
        siti = bot_api_server.world.add_user("Siti")
        bot_api_server.world.user_sends(siti, None, "/start")
        await bot_api_server.wait_until(lambda: received, timeout=3)
        assert received[0]["message"]["text"] == "/start"
        assert secrets == ["rahasia"]
        await bot_api_server.wait_until(lambda: bot_api_server.world.pending_update_count == 0)
        assert (await call(bot_api_server, "deleteWebhook"))[0] == 200
        assert (await call(bot_api_server, "getUpdates"))[0] == 200
    finally:
        await runner.cleanup()


async def test_delete_webhook_can_drop_pending_updates(bot_api_server: BotApiServer):
    siti = bot_api_server.world.add_user("Siti")
    bot_api_server.world.user_sends(siti, None, "lama")
    await call(bot_api_server, "deleteWebhook", drop_pending_updates=True)
    assert (await call(bot_api_server, "getUpdates"))[1]["result"] == []


async def test_is_polling_tells_when_the_bot_listens(bot_api_server: BotApiServer):
    assert not bot_api_server.is_polling
    poll = asyncio.create_task(call(bot_api_server, "getUpdates", timeout=5))
    await bot_api_server.wait_until(lambda: bot_api_server.is_polling, timeout=2)
    siti = bot_api_server.world.add_user("Siti")
    group = bot_api_server.world.add_group("RT 01", admins=[siti], bot="member")
    bot_api_server.world.user_sends(siti, group, "/start")
    status, body = await poll
    assert status == 200
    # The bot was there already: the only update is the command, no join.
    assert [u["message"]["text"] for u in body["result"]] == ["/start"]
    assert not bot_api_server.is_polling
