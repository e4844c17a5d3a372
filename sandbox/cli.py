"""Run the sandbox standalone: ``python -c 'import sys, sandbox.cli as c; c.main(sys.argv[1:])'``.

Prints the base URL and the bot token, then serves until interrupted. With ``--demo`` it starts
with a resident who has started the bot and an RT group the bot is in, so a bot pointed at it has
someone to talk to at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .control import install_control
from .faults import Latency
from .limits import Limits
from .server import DEFAULT_TOKEN, BotApiServer, SandboxConfig


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sandbox", description="Local Telegram Bot API server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    p.add_argument("--token", default=DEFAULT_TOKEN)
    p.add_argument("--bot-username", default="kentongan_sandbox_bot")
    p.add_argument("--no-limits", action="store_true", help="turn Telegram's flood limits off")
    p.add_argument("--lenient", action="store_true", help="ignore unknown parameters")
    p.add_argument("--no-privacy", action="store_true", help="the bot sees every group message")
    p.add_argument("--latency-ms", type=float, default=0.0, help="fixed latency per request")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--demo", action="store_true", help="start with a resident and an RT group")
    return p


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(
        token=args.token,
        bot_username=args.bot_username,
        host=args.host,
        port=args.port,
        strict=not args.lenient,
        limits=Limits.off() if args.no_limits else Limits(),
        privacy_mode=not args.no_privacy,
        seed=args.seed,
        latency=Latency.fixed(args.latency_ms) if args.latency_ms else None,
    )


def populate_demo(server: BotApiServer) -> None:
    world = server.world
    siti = world.add_user("Siti", last_name="Rahayu", username="siti_rt05", started=True)
    budi = world.add_user("Budi", username="budi_warga")
    group = world.add_group("RT 05 / RW 02 Sumbersari", "supergroup", admins=[siti], members=[budi])
    world.add_bot_to_group(group, by=siti, as_admin=True)


async def serve(config: SandboxConfig, *, demo: bool = False) -> None:
    server = BotApiServer(config)
    install_control(server)
    base = await server.start()
    if demo:
        populate_demo(server)
    print(f"Bot API base URL: {server.api_url}   (python-telegram-bot: base_url)", flush=True)
    print(f"File base URL:    {server.file_url}", flush=True)
    print(f"Bot token:        {server.token}", flush=True)
    print(f"Control API:      {base}/control", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        asyncio.run(serve(config_from_args(args), demo=args.demo))
    except OSError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
