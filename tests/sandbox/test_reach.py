"""What a pre-flight check meets: a bot that may not send, closed groups, and read limits."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import Bot, ChatMemberRestricted

from sandbox import BotApiServer, Limits, SandboxConfig
from sandbox.control import install_control
from sandbox.limits import FloodControl
from sandbox.testing import running_server

from .helpers import FakeClock, call

pytestmark = pytest.mark.sandbox(limits=Limits.off())
NO_RIGHTS = "Bad Request: not enough rights to send text messages to the chat"


async def test_restricted_bot_reads_the_chat_but_may_not_send(
    bot_api_server: BotApiServer, ptb_bot: Bot
) -> None:
    world = bot_api_server.world
    siti = world.add_user("Siti")
    group = world.add_group("RW 09", "supergroup", admins=[siti])
    world.add_bot_to_group(group, by=siti)
    world.restrict_bot(group)
    status, body = await call(bot_api_server, "sendMessage", chat_id=group.id, text="x")
    assert (status, body["description"]) == (400, NO_RIGHTS)
    member = await ptb_bot.get_chat_member(group.id, ptb_bot.id)
    assert isinstance(member, ChatMemberRestricted) and member.can_send_messages is False
    assert (await ptb_bot.get_chat(group.id)).id == group.id
    status, body = await call(bot_api_server, "getUpdates")
    assert body["result"][-1]["my_chat_member"]["new_chat_member"]["status"] == "restricted"
    basic = world.add_group("RT 01", "group", admins=[siti])
    with pytest.raises(ValueError, match="supergroups"):
        world.restrict_bot(basic)


async def test_closed_group_stops_a_member_bot_but_not_an_admin_bot(
    bot_api_server: BotApiServer, ptb_bot: Bot
) -> None:
    world = bot_api_server.world
    siti = world.add_user("Siti")
    member_group = world.add_group("RW 01", "group", admins=[siti])
    world.add_bot_to_group(member_group, by=siti)
    admin_group = world.add_group("RW 02", "group", admins=[siti])
    world.add_bot_to_group(admin_group, by=siti, as_admin=True)
    for group in (member_group, admin_group):
        world.set_members_can_send(group, False)
    chat = await ptb_bot.get_chat(member_group.id)
    assert chat.permissions is not None and chat.permissions.can_send_messages is False
    status, body = await call(bot_api_server, "sendMessage", chat_id=member_group.id, text="x")
    assert (status, body["description"]) == (400, NO_RIGHTS)
    status, _ = await call(bot_api_server, "sendMessage", chat_id=admin_group.id, text="x")
    assert status == 200


async def test_restrict_through_the_control_api() -> None:
    server = BotApiServer(SandboxConfig(limits=Limits.off()))
    install_control(server)
    await server.start()
    try:
        siti = server.world.add_user("Siti")
        group = server.world.add_group("RW 04", "supergroup", admins=[siti])
        basic = server.world.add_group("RT 04", "group", admins=[siti])
        for chat in (group, basic):
            server.world.add_bot_to_group(chat, by=siti)
        base = f"{server.base_url}/control/groups"
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{base}/{group.id}/bot/restrict", json={}) as response:
                assert response.status == 200
            async with session.post(f"{base}/{basic.id}/bot/restrict", json={}) as response:
                assert response.status == 400
    finally:
        await server.stop()
    assert group.bot_member is not None and group.bot_member.status == "restricted"


def test_reads_are_unlimited_unless_a_rate_is_set() -> None:
    clock = FakeClock()
    assert all(FloodControl(Limits(), clock).check_read() == 0 for _ in range(1000))
    flood = FloodControl(Limits(read_per_second=30, read_burst=30), clock)
    assert all(flood.check_read() == 0 for _ in range(30))
    assert flood.check_read() == 1
    clock.now += 0.05  # a token comes back every 1/30 s
    assert flood.check_read() == 0


async def test_read_limit_answers_429_over_http() -> None:
    async with running_server(limits=Limits(read_per_second=5, read_burst=5)) as server:
        siti = server.world.add_user("Siti")
        group = server.world.add_group("RW 03", "group", admins=[siti])
        server.world.add_bot_to_group(group, by=siti)
        answers = [(await call(server, "getChat", chat_id=group.id))[0] for _ in range(6)]
    assert answers == [200] * 5 + [429]
