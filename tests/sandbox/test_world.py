"""The world: who may be written to, what the bot hears in groups, and the updates it gets."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Bot, Update

from sandbox import GROUP_ANONYMOUS_BOT_ID, BotApiServer, Limits, World
from sandbox.spec import load_spec
from sandbox.validation import check_object

from .helpers import call

pytestmark = pytest.mark.sandbox(limits=Limits.off())


async def updates(server: BotApiServer, **params: Any) -> list[dict[str, Any]]:
    status, body = await call(server, "getUpdates", **params)
    assert status == 200, body
    return body["result"]


def assert_valid_updates(items: list[dict[str, Any]], bot: Bot) -> None:
    """Every update matches the spec and python-telegram-bot reads it."""
    spec = load_spec()
    for item in items:
        assert check_object(spec, "Update", item) == []
        assert Update.de_json(item, bot) is not None


async def test_private_chats_need_start_and_break_when_blocked(bot_api_server: BotApiServer):
    world = bot_api_server.world
    budi = world.add_user("Budi")
    assert await call(bot_api_server, "sendMessage", chat_id=budi.id, text="x") == (
        403,
        {
            "ok": False,
            "error_code": 403,
            "description": "Forbidden: bot can't initiate conversation with a user",
        },
    )
    world.user_sends(budi, None, "/start")
    assert (await call(bot_api_server, "sendMessage", chat_id=budi.id, text="x"))[0] == 200
    world.block_bot(budi)
    status, body = await call(bot_api_server, "sendMessage", chat_id=budi.id, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    kinds = [next(k for k in u if k != "update_id") for u in await updates(bot_api_server)]
    assert kinds == ["message", "my_chat_member"]


@pytest.mark.parametrize("kind", ["group", "supergroup"])
async def test_kicked_bot_gets_403(bot_api_server: BotApiServer, kind: str, ptb_bot: Bot):
    world = bot_api_server.world
    siti = world.add_user("Siti")
    group = world.add_group("RT 05", kind, admins=[siti])  # type: ignore[arg-type]
    status, body = await call(bot_api_server, "sendMessage", chat_id=group.id, text="x")
    assert (status, body["description"]) == (
        403,
        f"Forbidden: bot is not a member of the {kind} chat",
    )
    world.add_bot_to_group(group, by=siti)
    assert (await call(bot_api_server, "sendMessage", chat_id=group.id, text="x"))[0] == 200
    world.kick_bot(group)
    status, body = await call(bot_api_server, "sendMessage", chat_id=group.id, text="x")
    assert (status, body["description"]) == (403, f"Forbidden: bot was kicked from the {kind} chat")

    got = await updates(bot_api_server)
    assert_valid_updates(got, ptb_bot)
    added, joined, kicked = got
    assert added["my_chat_member"]["new_chat_member"]["status"] == "member"
    assert added["my_chat_member"]["old_chat_member"]["status"] == "left"
    assert joined["message"]["new_chat_members"][0]["id"] == bot_api_server.bot_user.id
    assert kicked["my_chat_member"]["new_chat_member"]["status"] == "kicked"


async def test_migration_to_supergroup(bot_api_server: BotApiServer, ptb_bot: Bot):
    world = bot_api_server.world
    siti = world.add_user("Siti")
    group = world.add_group("RW 02", "group", admins=[siti])
    world.add_bot_to_group(group, by=siti)
    await updates(bot_api_server)  # the join
    supergroup = world.migrate_to_supergroup(group)
    assert supergroup.type == "supergroup" and str(supergroup.id).startswith("-100")
    assert len(str(supergroup.id)) == 14

    status, body = await call(bot_api_server, "sendMessage", chat_id=group.id, text="x")
    assert (status, body) == (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": supergroup.id},
        },
    )
    assert (await call(bot_api_server, "sendMessage", chat_id=supergroup.id, text="x"))[0] == 200
    got = await updates(bot_api_server, offset=3)
    assert_valid_updates(got, ptb_bot)
    messages = [u["message"] for u in got]
    assert messages[0]["chat"]["id"] == group.id
    assert messages[0]["migrate_to_chat_id"] == supergroup.id
    assert messages[1]["chat"]["id"] == supergroup.id
    assert messages[1]["migrate_from_chat_id"] == group.id


async def test_privacy_mode_in_groups(bot_api_server: BotApiServer):
    world = bot_api_server.world
    siti, budi = world.add_user("Siti"), world.add_user("Budi")
    group = world.add_group("RT 05", "supergroup", admins=[siti], members=[budi])
    world.add_bot_to_group(group, by=siti)
    await updates(bot_api_server)
    _, sent = await call(bot_api_server, "sendMessage", chat_id=group.id, text="Info TPS")
    bot_message = world.chat(group).messages[sent["result"]["message_id"]]

    world.user_sends(budi, group, "selamat pagi semua")  # not for the bot
    world.user_sends(budi, group, "/jadwal")
    world.user_sends(budi, group, "/jadwal@kentongan_sandbox_bot")
    world.user_sends(budi, group, "/start@some_other_bot")  # for another bot
    world.user_sends(budi, group, "terima kasih", reply_to=bot_message)
    heard = [u["message"]["text"] for u in await updates(bot_api_server, offset=3)]
    assert heard == ["/jadwal", "/jadwal@kentongan_sandbox_bot", "terima kasih"]
    # Everything is in the chat's history all the same.
    assert len(world.messages_in(group, from_bot=False)) == 6  # with the join

    world.promote_bot(group, by=siti)  # admins hear everything
    world.user_sends(budi, group, "ngobrol biasa")
    assert (await updates(bot_api_server, offset=6))[-1]["message"]["text"] == "ngobrol biasa"


@pytest.mark.sandbox(limits=Limits.off(), privacy_mode=False)
async def test_without_privacy_mode_the_bot_hears_everything(bot_api_server: BotApiServer):
    world = bot_api_server.world
    siti = world.add_user("Siti")
    group = world.add_group("RT 05", admins=[siti])
    world.add_bot_to_group(group, by=siti)
    world.user_sends(siti, group, "ngobrol biasa")
    assert (await updates(bot_api_server))[-1]["message"]["text"] == "ngobrol biasa"


async def test_anonymous_admins_post_as_the_group(bot_api_server: BotApiServer, ptb_bot: Bot):
    world = bot_api_server.world
    ketua = world.add_user("Pak RT")
    group = world.add_group("RT 05", "supergroup", anonymous_admins=[ketua])
    world.add_bot_to_group(group, by=ketua)
    world.user_sends(ketua, group, "/umumkan rapat")
    update = (await updates(bot_api_server))[-1]
    assert_valid_updates([update], ptb_bot)
    message = update["message"]
    assert message["from"]["id"] == GROUP_ANONYMOUS_BOT_ID
    assert message["from"]["username"] == "GroupAnonymousBot"
    assert message["sender_chat"]["id"] == group.id
    parsed = Update.de_json(update, ptb_bot)
    assert parsed.effective_sender is not None and parsed.effective_sender.id == group.id


async def test_commands_carry_entities(bot_api_server: BotApiServer, ptb_bot: Bot):
    world = bot_api_server.world
    siti = world.add_user("Siti")
    world.user_sends(siti, None, "/lapor@kentongan_sandbox_bot TPS 12 ramai")
    update = Update.de_json((await updates(bot_api_server))[0], ptb_bot)
    assert update.message is not None
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/lapor@kentongan_sandbox_bot")


async def test_user_documents_can_be_downloaded(bot_api_server: BotApiServer, ptb_bot: Bot):
    world = bot_api_server.world
    siti = world.add_user("Siti")
    world.user_sends_document(siti, None, "dpt.csv", b"nik,nama\n1,Siti\n", caption="DPT")
    update = Update.de_json((await updates(bot_api_server))[0], ptb_bot)
    assert update.message is not None and update.message.document is not None
    assert update.message.document.file_name == "dpt.csv"
    assert update.message.document.mime_type == "text/csv"
    file = await update.message.document.get_file()
    assert bytes(await file.download_as_bytearray()) == b"nik,nama\n1,Siti\n"


async def test_members_and_admins(bot_api_server: BotApiServer, ptb_bot: Bot):
    world = bot_api_server.world
    siti, budi, asing = world.add_user("Siti"), world.add_user("Budi"), world.add_user("Asing")
    group = world.add_group("RT 05", "supergroup", admins=[siti], members=[budi])
    world.add_bot_to_group(group, by=siti, as_admin=True)
    assert await ptb_bot.get_chat_member_count(group.id) == 3
    admins = await ptb_bot.get_chat_administrators(group.id)
    assert {a.user.id: a.status for a in admins} == {
        siti.id: "creator",
        bot_api_server.bot_user.id: "administrator",
    }
    assert (await ptb_bot.get_chat_member(group.id, budi.id)).status == "member"
    assert (await ptb_bot.get_chat_member(group.id, asing.id)).status == "left"
    chat = await ptb_bot.get_chat(group.id)
    assert (chat.title, chat.type) == ("RT 05", "supergroup")
    spec = load_spec()
    _, body = await call(bot_api_server, "getChat", chat_id=group.id)
    assert check_object(spec, "ChatFullInfo", body["result"]) == []
    _, body = await call(bot_api_server, "getChatAdministrators", chat_id=group.id)
    assert check_object(spec, "Array of ChatMember", body["result"]) == []


async def test_leave_chat(bot_api_server: BotApiServer, ptb_bot: Bot):
    world = bot_api_server.world
    siti = world.add_user("Siti")
    group = world.add_group("RT 05", admins=[siti])
    world.add_bot_to_group(group, by=siti)
    assert await ptb_bot.leave_chat(group.id) is True
    status, body = await call(bot_api_server, "sendMessage", chat_id=group.id, text="x")
    assert (status, body["description"]) == (
        403,
        "Forbidden: bot is not a member of the group chat",
    )


def test_ids_look_like_telegrams() -> None:
    from sandbox.world import User

    world = World(User(1, "bot", is_bot=True))
    user = world.add_user("U")
    group = world.add_group("G")
    supergroup = world.add_group("S", "supergroup")
    assert user.id > 0
    assert -(10**10) < group.id < 0
    assert str(supergroup.id).startswith("-100") and len(str(supergroup.id)) == 14
