"""A python-telegram-bot Application runs unchanged against the sandbox."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
    BotCommandScopeChatMember,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
)

from sandbox import BotApiServer, Limits
from sandbox.testing import application_builder, polling_application

from .helpers import answers_off_spec, png

pytestmark = pytest.mark.sandbox(limits=Limits.off())

REPORT_CSV = b"tps,hadir\n12,187\n13,201\n"


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet and ask to confirm the TPS."""
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Sudah tahu TPS saya", callback_data="tps:ok")]]
    )
    await update.effective_message.reply_text(
        "<b>Halo!</b> Coblosan Rabu 27 November, TPS buka 07.00–13.00 WIB.",
        reply_markup=keyboard,
    )


async def jadwal(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Post the schedule in the group."""
    assert update.effective_chat is not None
    await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
    await context.bot.send_message(update.effective_chat.id, "Masa tenang 24–26 November.")


async def acknowledge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the button and drop the keyboard."""
    query = update.callback_query
    assert query is not None
    await query.answer("Terima kasih!")
    await query.edit_message_text("Terima kasih, sampai jumpa di TPS.")


async def laporan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a CSV report and a PNG chart."""
    assert update.effective_chat is not None
    await context.bot.send_document(
        update.effective_chat.id, REPORT_CSV, filename="kehadiran.csv", caption="Kehadiran"
    )
    await context.bot.send_photo(update.effective_chat.id, png(640, 480), caption="Grafik")


def build(server: BotApiServer) -> Application:
    app = application_builder(server).defaults(Defaults(parse_mode=ParseMode.HTML)).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("jadwal", jadwal))
    app.add_handler(CommandHandler("laporan", laporan))
    app.add_handler(CallbackQueryHandler(acknowledge, pattern=r"^tps:"))
    return app


async def test_a_bot_runs_unchanged(bot_api_server: BotApiServer) -> None:
    server, world = bot_api_server, bot_api_server.world
    siti = world.add_user("Siti", username="siti_rt05")
    budi = world.add_user("Budi")
    group = world.add_group("RT 05 Sumbersari", "supergroup", admins=[siti], members=[budi])

    async with polling_application(build(server)):
        # A command in the private chat, answered with a keyboard.
        world.user_sends(siti, None, "/start")
        greeting = await server.wait_for_message(siti)
        # Start-up as run_polling does it; calls are recorded when answered.
        assert [c.method for c in server.calls[:3]] == ["getMe", "deleteWebhook", "getUpdates"]
        assert greeting.text == "Halo! Coblosan Rabu 27 November, TPS buka 07.00–13.00 WIB."
        assert greeting.entities == [{"type": "bold", "offset": 0, "length": 5}]

        # The button, answered and the message edited.
        query_id = world.press_button(siti, siti, greeting.message_id, "tps:ok")
        answer = await server.wait_for_callback_answer(query_id)
        assert answer.text == "Terima kasih!"
        await server.wait_until(lambda: greeting.edit_date is not None)
        assert greeting.text == "Terima kasih, sampai jumpa di TPS." and greeting.buttons() == []
        assert world.unanswered_callbacks() == []

        # A command in a group, addressed to the bot by name.
        world.add_bot_to_group(group, by=siti)
        world.user_sends(budi, group, "/jadwal@kentongan_sandbox_bot")
        posted = await server.wait_for_message(group, lambda m: "tenang" in (m.text or ""))
        assert posted.text == "Masa tenang 24–26 November."
        assert [a[:2] for a in world.chat_actions] == [(group.id, "typing")]

        # A document and a photo, uploaded as multipart.
        world.user_sends(budi, group, "/laporan")
        photo = await server.wait_for_message(group, lambda m: m.photo is not None)
        document = world.messages_in(group, from_bot=True)[-2]
        assert document.document is not None
        assert document.document["file_name"] == "kehadiran.csv"
        assert document.document["mime_type"] == "text/csv"
        assert world.files[document.document["file_id"]].data == REPORT_CSV
        assert photo.photo is not None
        assert (photo.photo[-1]["width"], photo.photo[-1]["height"]) == (640, 480)
        assert photo.caption == "Grafik"

    # Strict mode never tripped over python-telegram-bot's own requests.
    assert {c.status for c in server.calls} <= {200, 499}, [
        (c.method, c.result) for c in server.calls if c.status not in (200, 499)
    ]
    assert answers_off_spec(server) == []


async def test_ptb_error_types(bot_api_server: BotApiServer, ptb_bot: Bot) -> None:
    world = bot_api_server.world
    siti = world.add_user("Siti")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await ptb_bot.send_message(siti.id, "x")

    group = world.add_group("RW 02", admins=[siti])
    world.add_bot_to_group(group, by=siti)
    supergroup = world.migrate_to_supergroup(group)
    with pytest.raises(ChatMigrated) as migrated:
        await ptb_bot.send_message(group.id, "x")
    assert migrated.value.new_chat_id == supergroup.id

    world.kick_bot(supergroup)
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await ptb_bot.send_message(supergroup.id, "x")

    with pytest.raises(BadRequest, match="Chat not found"):
        await ptb_bot.send_message(supergroup.id - 1, "<b>x", parse_mode=ParseMode.HTML)
    world.user_sends(siti, None, "/start")
    with pytest.raises(BadRequest, match="Can't parse entities: can't find end tag"):
        await ptb_bot.send_message(siti.id, "<b>x", parse_mode=ParseMode.HTML)


async def test_ptb_requests_pass_strict_validation(bot_api_server: BotApiServer, ptb_bot: Bot):
    """Every method the bot is likely to use, with its usual keywords, is accepted as sent."""
    world = bot_api_server.world
    siti = world.add_user("Siti", started=True)
    group = world.add_group("RT 05", "supergroup", admins=[siti])
    world.add_bot_to_group(group, by=siti, as_admin=True)

    commands = [BotCommand("start", "Mulai"), BotCommand("jadwal", "Jadwal coblosan")]
    scopes = [
        BotCommandScopeDefault(),
        BotCommandScopeAllPrivateChats(),
        BotCommandScopeAllGroupChats(),
        BotCommandScopeAllChatAdministrators(),
        BotCommandScopeChat(group.id),
        BotCommandScopeChatAdministrators(group.id),
        BotCommandScopeChatMember(group.id, siti.id),
    ]
    for scope in scopes:
        assert await ptb_bot.set_my_commands(commands, scope=scope, language_code="id")
        assert await ptb_bot.get_my_commands(scope=scope, language_code="id") == tuple(commands)
    assert await ptb_bot.get_my_commands() == ()
    assert await ptb_bot.delete_my_commands(scope=BotCommandScopeChat(group.id), language_code="id")
    assert (
        await ptb_bot.get_my_commands(scope=BotCommandScopeChat(group.id), language_code="id") == ()
    )

    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Baca", callback_data="read")]])
    first = await ptb_bot.send_message(
        siti.id,
        "Info <i>resmi</i> dari <a href='https://kpu.go.id'>KPU</a>",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
        disable_notification=True,
        protect_content=True,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    reply = await ptb_bot.send_message(
        siti.id, "Balasan", reply_parameters=ReplyParameters(first.message_id)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == first.message_id
    edited = await ptb_bot.edit_message_text(
        "Info diperbarui", chat_id=siti.id, message_id=first.message_id, reply_markup=keyboard
    )
    assert isinstance(edited, type(first))
    await ptb_bot.edit_message_reply_markup(siti.id, first.message_id, reply_markup=None)
    in_group = await ptb_bot.send_message(group.id, "Tombol", reply_markup=keyboard)
    query_id = world.press_button(siti, group, in_group.message_id, "read")
    assert await ptb_bot.answer_callback_query(query_id, "Oke", show_alert=True)
    assert await ptb_bot.send_chat_action(siti.id, ChatAction.UPLOAD_DOCUMENT)
    assert await ptb_bot.delete_message(siti.id, reply.message_id)
    sent = await ptb_bot.send_document(siti.id, b"a,b\n1,2\n", filename="x.csv")
    assert sent.document is not None
    file = await ptb_bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"a,b\n1,2\n"
    again = await ptb_bot.send_document(group.id, sent.document.file_id)  # re-send by file_id
    assert again.document is not None and again.document.file_id == sent.document.file_id
    photo = await ptb_bot.send_photo(siti.id, png(), caption="<b>Grafik</b>", parse_mode="HTML")
    assert photo.caption == "Grafik"
    captioned = await ptb_bot.edit_message_caption(siti.id, photo.message_id, caption="Baru")
    assert isinstance(captioned, type(photo)) and captioned.caption == "Baru"
    chat = await ptb_bot.get_chat(siti.id)
    assert chat.first_name == "Siti"
    assert (await ptb_bot.get_chat_member(group.id, siti.id)).status == "creator"
    assert await ptb_bot.get_chat_member_count(group.id) == 2
    assert await ptb_bot.set_webhook("https://example.invalid/hook", drop_pending_updates=True)
    assert (await ptb_bot.get_webhook_info()).url == "https://example.invalid/hook"
    assert await ptb_bot.delete_webhook()
    assert await ptb_bot.get_updates(timeout=0) == ()

    refused = [(c.method, c.result) for c in bot_api_server.calls if c.status != 200]
    assert refused == []
    assert answers_off_spec(bot_api_server) == []
