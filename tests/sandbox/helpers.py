"""Raw HTTP calls to the sandbox, to see exactly what Telegram-shaped answers it gives."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from sandbox import BotApiServer
from sandbox.media import sample_png


async def call(
    server: BotApiServer, method: str, *, body: str = "form", **params: Any
) -> tuple[int, dict[str, Any]]:
    """POST ``params`` as PTB would (``body="form"``: JSON-serialized non-strings) or as JSON."""
    url = f"{server.api_url}{server.token}/{method}"
    async with aiohttp.ClientSession() as session:
        if body == "json":
            request = session.post(url, json=params)
        else:
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            request = session.post(url, data=form)
        async with request as response:
            return response.status, await response.json()


class FakeClock:
    """A clock that moves only when a test says so, and counts how often it was read."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


png = sample_png  # a real, tiny PNG image


def keyboard(*data: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": d, "callback_data": d} for d in data]]}


def answers_off_spec(server: BotApiServer) -> list[tuple[str, list[str]]]:
    """Successful answers whose result is not what the spec says the method returns."""
    from sandbox.spec import load_spec
    from sandbox.validation import check_object

    spec = load_spec()
    wrong = []
    for c in server.calls:
        method = spec.method(c.method)
        if c.status != 200 or method is None:
            continue
        problems = [check_object(spec, t, c.result) for t in method.returns]
        if all(problems):
            wrong.append((c.method, problems[0]))
    return wrong
