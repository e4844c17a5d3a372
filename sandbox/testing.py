"""Helpers and pytest fixtures for tests that talk to the sandbox.

Use them from a conftest::

    from sandbox.testing import *  # noqa: F403  (fixtures and the marker registration)

Fixtures:

- ``sandbox_config``: the SandboxConfig for the test (Telegram's limits on). Override the fixture
  in a module, or mark a test ``@pytest.mark.sandbox(limits=Limits.off(), privacy_mode=False)``:
  the marker's keywords replace config fields.
- ``bot_api_server``: a started BotApiServer (``.token``, ``.api_url``, ``.world``, ``.calls``).
- ``sandbox_world``: its World.
- ``ptb_bot``: an initialized ``telegram.Bot`` pointed at the server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest

from .server import BotApiServer, SandboxConfig
from .world import World

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import Application, ApplicationBuilder


@asynccontextmanager
async def running_server(
    config: SandboxConfig | None = None, **overrides: Any
) -> AsyncIterator[BotApiServer]:
    """A started server; keywords replace fields of ``config``."""
    config = dataclasses.replace(config or SandboxConfig(), **overrides)
    server = BotApiServer(config)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def application_builder(server: BotApiServer) -> ApplicationBuilder:
    """An ApplicationBuilder aimed at the server; add handlers and options, then ``build()``."""
    from telegram.ext import ApplicationBuilder

    return (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.api_url)
        .base_file_url(server.file_url)
    )


@asynccontextmanager
async def polling_application(
    application: Application[Any, Any, Any, Any, Any, Any], *, poll_timeout: int = 1
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Run ``application`` with long polling, as ``run_polling`` would, until the block ends."""
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=poll_timeout)
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


def _bot_for(server: BotApiServer) -> Bot:
    from telegram import Bot

    return Bot(server.token, base_url=server.api_url, base_file_url=server.file_url)


@asynccontextmanager
async def sandbox_bot(server: BotApiServer) -> AsyncIterator[Bot]:
    """An initialized ``telegram.Bot`` talking to the server."""
    bot = _bot_for(server)
    async with bot:
        yield bot


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sandbox(**fields): replace SandboxConfig fields for the bot_api_server fixture"
    )


@pytest.fixture
def sandbox_config(request: pytest.FixtureRequest) -> SandboxConfig:
    config = SandboxConfig()
    marker = request.node.get_closest_marker("sandbox")
    if marker is not None:
        config = dataclasses.replace(config, **marker.kwargs)
    return config


@pytest.fixture
async def bot_api_server(sandbox_config: SandboxConfig) -> AsyncIterator[BotApiServer]:
    async with running_server(sandbox_config) as server:
        yield server


@pytest.fixture
def sandbox_world(bot_api_server: BotApiServer) -> World:
    return bot_api_server.world


@pytest.fixture
async def ptb_bot(bot_api_server: BotApiServer) -> AsyncIterator[Bot]:
    async with sandbox_bot(bot_api_server) as bot:
        yield bot


__all__ = [
    "application_builder",
    "bot_api_server",
    "polling_application",
    "ptb_bot",
    "pytest_configure",
    "running_server",
    "sandbox_bot",
    "sandbox_config",
    "sandbox_world",
]
