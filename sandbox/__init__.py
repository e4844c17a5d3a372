"""A local Telegram Bot API server, strict like Telegram, with a world of users and groups.

The bot under test talks HTTP to it exactly as to api.telegram.org; a test drives the people::

    from sandbox import BotApiServer, SandboxConfig, Limits

    async with BotApiServer(SandboxConfig(limits=Limits.off())) as server:
        app = (
            ApplicationBuilder()
            .token(server.token)
            .base_url(server.api_url)          # "http://127.0.0.1:PORT/bot"
            .base_file_url(server.file_url)    # "http://127.0.0.1:PORT/file/bot"
            .build()
        )
        world = server.world
        siti = world.add_user("Siti", username="siti_rt05")
        rt05 = world.add_group("RT 05 Sumbersari", "supergroup", admins=[siti])
        world.add_bot_to_group(rt05, by=siti)
        world.user_sends(siti, None, "/start")            # private chat: None = with the bot
        world.user_sends(siti, rt05, "/jadwal@kentongan_sandbox_bot")
        reply = await server.wait_for_message(rt05, lambda m: "TPS" in (m.text or ""))
        qid = world.press_button(siti, rt05, reply.message_id, "ack:1")
        await server.wait_for_callback_answer(qid)
        world.kick_bot(rt05)                               # later sends: 403 Forbidden
        [c.method for c in server.calls]                   # every request, with status

Faults (``Fault``, ``Latency``) and flood limits (``Limits``) are deterministic from
``SandboxConfig.seed``. ``sandbox.cli`` runs it standalone with an HTTP control API;
``sandbox.testing`` has the pytest fixtures.
"""

from .errors import ApiError
from .faults import Fault, FaultPlan, Latency
from .limits import Limits
from .server import DEFAULT_TOKEN, BotApiServer, Call, SandboxConfig
from .world import (
    GROUP_ANONYMOUS_BOT_ID,
    CallbackAnswer,
    CallbackQuery,
    Chat,
    Member,
    Message,
    User,
    World,
)

__all__ = [
    "DEFAULT_TOKEN",
    "GROUP_ANONYMOUS_BOT_ID",
    "ApiError",
    "BotApiServer",
    "Call",
    "CallbackAnswer",
    "CallbackQuery",
    "Chat",
    "Fault",
    "FaultPlan",
    "Latency",
    "Limits",
    "Member",
    "Message",
    "SandboxConfig",
    "User",
    "World",
]
