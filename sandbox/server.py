"""The HTTP side: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>`` on 127.0.0.1.

One request goes: token → method → body → injected faults → spec validation → flood limits →
the method → the answer, and every step that refuses answers exactly as Telegram would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import ClientSession, ClientTimeout, web

from .errors import ApiError, too_many_requests
from .faults import Fault, FaultPlan, Latency
from .limits import READING_METHODS, SENDING_METHODS, FloodControl, Limits
from .methods import BotApi, MethodOptions, maybe_await
from .spec import ApiSpec, load_spec
from .validation import UploadedFile, Validator
from .world import CallbackAnswer, CallbackQuery, Chat, Message, User, World

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "7000000001:AAHsandboxKentonganTestToken0123456"
# How long the `wait_*` helpers wait by default. A wait that is met returns at once, so this
# only bounds a failing one: generous, since a loaded machine (four test workers on two
# cores) can take seconds over what is instant on an idle one.
WAIT_TIMEOUT = 15.0
_TOKEN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{30,}")
_INT = re.compile(r"-?\d+")


@dataclass
class SandboxConfig:
    """Everything a test or a benchmark may want to vary."""

    token: str = DEFAULT_TOKEN
    bot_username: str = "kentongan_sandbox_bot"
    bot_first_name: str = "Kentongan Sandbox"
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    strict: bool = True  # unknown parameters and bare "&" in HTML are refused
    limits: Limits = field(default_factory=Limits)
    privacy_mode: bool = True
    seed: int = 0
    latency: Latency | None = None  # for every request, on top of fault rules
    faults: list[Fault] = field(default_factory=list)
    callback_answer_timeout: float = 15.0
    max_poll_timeout: float = 50.0
    record_calls: bool = True


@dataclass(frozen=True)
class Call:
    """One request the bot made and how it was answered."""

    method: str  # as the spec spells it: "sendMessage"
    params: dict[str, Any]  # typed; uploads shown as {"filename", "size", "content_type"}
    status: int  # HTTP status; 0: the sandbox dropped the connection; 499: the client hung up
    result: Any  # the answer's result, or its description when not ok
    at: float  # time.time() when it arrived
    duration: float  # seconds until answered

    @property
    def ok(self) -> bool:
        return self.status == 200


class _Dropped(Exception):
    """The connection is closed without an answer."""


class BotApiServer:
    """A local Telegram Bot API server with a world behind it.

    ``await server.start()`` returns the base URL; point python-telegram-bot at
    ``server.api_url`` (``base_url``) and ``server.file_url`` (``base_file_url``).
    """

    def __init__(self, config: SandboxConfig | None = None, *, spec: ApiSpec | None = None):
        self.config = config = config or SandboxConfig()
        self.spec = spec or load_spec()
        bot_id = int(config.token.split(":", 1)[0])
        self.bot_user = User(
            bot_id, config.bot_first_name, username=config.bot_username, is_bot=True
        )
        self.world = World(self.bot_user, privacy_mode=config.privacy_mode, seed=config.seed)
        self.api = BotApi(
            self.world,
            MethodOptions(
                strict=config.strict,
                callback_answer_timeout=config.callback_answer_timeout,
                max_poll_timeout=config.max_poll_timeout,
            ),
        )
        self.validator = Validator(self.spec, strict=config.strict)
        self.flood = FloodControl(config.limits)
        self.faults = FaultPlan(config.faults, seed=config.seed)
        self.faults.latency = config.latency
        # How the server holds an answer (latency, time-out faults); a test may replace it to
        # see the delays asked for without waiting them out.
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.calls: list[Call] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._extra_routes: list[Callable[[web.Application], None]] = []

    # ---- life cycle ------------------------------------------------------------------------

    @property
    def token(self) -> str:
        return self.config.token

    @property
    def api_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: the token is appended to it."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.base_url}/file/bot"

    def add_routes(self, install: Callable[[web.Application], None]) -> None:
        """Let another module (the control API) add routes before ``start``."""
        self._extra_routes.append(install)

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        for install in self._extra_routes:
            install(app)
        return app

    async def start(self) -> str:
        # handler_cancellation: a client that hangs up stops its long poll, as on Telegram.
        self._runner = web.AppRunner(
            self.make_app(), handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{self.config.host}:{port}"
        self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        return self.base_url

    async def stop(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- settings at run time --------------------------------------------------------------

    def set_limits(self, limits: Limits) -> None:
        self.config.limits = limits
        self.flood = FloodControl(limits)

    def set_latency(self, latency: Latency | None) -> None:
        self.faults.latency = latency

    def add_fault(self, fault: Fault) -> Fault:
        return self.faults.add(fault)

    # ---- reading what happened -------------------------------------------------------------

    @property
    def is_polling(self) -> bool:
        """Whether a getUpdates long poll is open now: the bot is up and listening."""
        return self.api.polls_waiting > 0

    def calls_to(self, method: str) -> list[Call]:
        name = method.lower()
        return [c for c in self.calls if c.method.lower() == name]

    def messages_in(self, chat: Chat | User | int, **kwargs: Any) -> list[Message]:
        return self.world.messages_in(chat, **kwargs)

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        return self.world.callback_answers

    def unanswered_callbacks(self) -> list[CallbackQuery]:
        return self.world.unanswered_callbacks()

    async def wait_until(self, condition: Callable[[], Any], timeout: float = WAIT_TIMEOUT) -> Any:
        """The first truthy value of ``condition()``, re-checked whenever the world changes."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            # Calls are recorded after the world changes, so poll briefly as well.
            await self.world.wait_changed(min(remaining, 0.05))

    async def wait_for_message(
        self,
        chat: Chat | User | int,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = WAIT_TIMEOUT,
        *,
        after: int = 0,
    ) -> Message:
        """The first message the bot sent to ``chat`` (with id > ``after``) matching."""

        def find() -> Message | None:
            for m in self.world.bot_messages(chat):
                if m.message_id > after and (predicate is None or predicate(m)):
                    return m
            return None

        message: Message = await self.wait_until(find, timeout)
        return message

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = WAIT_TIMEOUT,
    ) -> Call:
        def find() -> Call | None:
            for c in self.calls_to(method):
                if predicate is None or predicate(c):
                    return c
            return None

        call: Call = await self.wait_until(find, timeout)
        return call

    async def wait_for_callback_answer(
        self, query_id: str, timeout: float = WAIT_TIMEOUT
    ) -> CallbackAnswer:
        def find() -> CallbackAnswer | None:
            for a in self.world.callback_answers:
                if a.callback_query_id == query_id:
                    return a
            return None

        answer: CallbackAnswer = await self.wait_until(find, timeout)
        return answer

    # ---- HTTP ------------------------------------------------------------------------------

    @staticmethod
    def _answer(status: int, body: dict[str, Any]) -> web.Response:
        return web.Response(
            status=status,
            body=json.dumps(body, ensure_ascii=False).encode(),
            content_type="application/json",
        )

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        started_wall, started = time.time(), time.monotonic()
        token = request.match_info["token"]
        method_name = request.match_info["method"]
        if not _TOKEN.fullmatch(token):
            return self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if token != self.config.token:
            return self._answer(
                401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
        spec = self.spec.method(method_name)
        if spec is None:
            return self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        method = spec.name.lower()
        params: dict[str, Any] = {}
        status, result = 200, None
        try:
            raw = await self._read_params(request)
            params = raw
            fired = await self._before(method, raw)
            params = self.validator.validate(spec, raw)
            if method in SENDING_METHODS:
                self._check_flood(params)
            elif method in READING_METHODS and (retry := self.flood.check_read()):
                raise too_many_requests(retry)
            handler = self.api.handler(method)
            if handler is None:
                raise ApiError(501, f"Not Implemented: the sandbox does not simulate {spec.name}")
            result = await maybe_await(handler(params))
            await self._after(fired)
            response = self._answer(200, {"ok": True, "result": result})
        except ApiError as exc:
            status, result = exc.code, exc.description
            response = self._answer(exc.code, exc.to_json())
        except _Dropped:
            self._record(spec.name, params, 0, "connection dropped", started_wall, started)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError from None
        except asyncio.CancelledError:
            # The client hung up first (its time-out, or a long poll it abandoned): 499 as nginx
            # logs it, so a test can tell this from a connection the sandbox dropped (0).
            self._record(spec.name, params, 499, "client closed request", started_wall, started)
            raise
        self._record(spec.name, params, status, result, started_wall, started)
        return response

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        status: int,
        result: Any,
        wall: float,
        started: float,
    ) -> None:
        if not self.config.record_calls:
            return
        shown = {
            k: (
                {"filename": v.filename, "size": len(v.data), "content_type": v.content_type}
                if isinstance(v, UploadedFile)
                else v
            )
            for k, v in params.items()
        }
        self.calls.append(Call(method, shown, status, result, wall, time.monotonic() - started))
        self.world.changed()

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query) if request.query_string else {}
        if request.method not in ("POST", "PUT") or not request.can_read_body:
            return params
        ctype = request.content_type
        if ctype == "application/x-www-form-urlencoded":
            # What python-telegram-bot sends without files; parse_qsl is cheaper than post().
            body = (await request.read()).decode("utf-8", "replace")
            params.update(parse_qsl(body, keep_blank_values=True))
        elif ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON object") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: JSON object expected")
            params.update(body)
        elif ctype == "multipart/form-data":
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = UploadedFile(
                        value.filename, value.content_type, value.file.read()
                    )
                else:
                    params[key] = value
        return params

    def _check_flood(self, params: dict[str, Any]) -> None:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str):
            chat = self.world.find_chat(chat_id)
            chat_id = chat.id if chat else None
        if chat_id is None:
            return
        retry = self.flood.check(
            chat_id, is_private=chat_id > 0, paid=bool(params.get("allow_paid_broadcast"))
        )
        if retry:
            raise too_many_requests(retry)

    # ---- injected faults -------------------------------------------------------------------

    @staticmethod
    def _chat_of(raw: dict[str, Any]) -> int | None:
        value = raw.get("chat_id")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _INT.fullmatch(value):
            return int(value)
        return None

    async def _before(self, method: str, raw: dict[str, Any]) -> list[Fault]:
        """Apply latency and the faults that strike before the call; those left for after."""
        delay = self.faults.base_delay()
        fired = self.faults.pick(method, self._chat_of(raw)) if self.faults.rules else []
        for fault in fired:
            if fault.kind == "latency":
                delay += fault.latency.sample_seconds(self.faults.rng)
        if delay:
            await self.sleep(delay)
        for fault in fired:
            if fault.after_processing:
                continue
            if fault.kind == "retry_after":
                raise too_many_requests(fault.retry_after)
            if fault.kind == "server_error":
                raise ApiError(fault.status, fault.description)
            if fault.kind == "timeout":
                await self.sleep(fault.hold_seconds)
                raise _Dropped
            if fault.kind == "drop":
                raise _Dropped
        return fired

    async def _after(self, fired: list[Fault]) -> None:
        for fault in fired:
            if not fault.after_processing:
                continue
            if fault.kind == "timeout":
                await self.sleep(fault.hold_seconds)
                raise _Dropped
            if fault.kind == "drop":
                raise _Dropped

    # ---- files -----------------------------------------------------------------------------

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.config.token:
            return self._answer(
                401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
        path = request.match_info["path"]
        for stored in self.world.files.values():
            if stored.file_path == path:
                return web.Response(
                    body=stored.data, content_type=stored.mime_type or "application/octet-stream"
                )
        return self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    # ---- webhook delivery ------------------------------------------------------------------

    async def _deliver_webhooks(self) -> None:
        """Push pending updates to the webhook URL one by one, retrying failures."""
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while True:
                world = self.world
                if not world.webhook_url or not world.pending_update_count:
                    await world.wait_changed(1.0)
                    continue
                update = world.pending_updates(0, 1)[0]
                headers = {}
                if world.webhook_secret:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = world.webhook_secret
                try:
                    async with session.post(
                        world.webhook_url, json=update, headers=headers
                    ) as resp:
                        ok = 200 <= resp.status < 300
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
                except Exception as exc:  # any failure is the webhook's, reported like Telegram
                    ok, error = False, f"Connection failed: {exc.__class__.__name__}"
                if ok:
                    world.pending_updates(update["update_id"] + 1, 1)
                    world.changed()
                else:
                    world.webhook_last_error = (int(time.time()), error)
                    await asyncio.sleep(0.5)
