from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from sandbox import BotApiServer
from sandbox.testing import application_builder, polling_application


async def test_start(bot_api_server: BotApiServer) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Halo!")

    app = application_builder(bot_api_server).build()
    app.add_handler(CommandHandler("start", start))
    world = bot_api_server.world
    siti = world.add_user("Siti")
    async with polling_application(app):
        world.user_sends(siti, None, "/start")
        msg = await bot_api_server.wait_for_message(siti, timeout=5)
        assert msg.text == "Halo!"
    print([ (c.method, c.status, c.params) for c in bot_api_server.calls])
