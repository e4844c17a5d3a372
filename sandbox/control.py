"""An HTTP control API under ``/control`` for driving the world by hand (curl, a browser).

Same actions as the Python API; bodies and answers are JSON. Users and chats are named by id.

    POST   /control/users                    {"first_name", "username"?, "started"?}
    POST   /control/groups                   {"title", "type"?, "admins"?, "members"?,
                                              "anonymous_admins"?, "add_bot_by"?, "bot_admin"?}
    POST   /control/groups/{id}/bot          {"by", "as_admin"?}      add the bot
    DELETE /control/groups/{id}/bot          {"by"?}                  kick the bot
    POST   /control/groups/{id}/bot/restrict {"by"?}                  the bot may not send
    POST   /control/groups/{id}/migrate      {"by"?}                  upgrade to a supergroup
    POST   /control/groups/{id}/members      {"user_id", "by"?}
    POST   /control/send                     {"user_id", "chat_id"?, "text", "reply_to"?}
    POST   /control/document                 {"user_id", "chat_id"?, "filename",
                                              "content_base64", "caption"?}
    POST   /control/press                    {"user_id", "chat_id", "message_id", "callback_data"}
    POST   /control/block | /control/unblock {"user_id"}
    GET    /control/chats                    every chat
    GET    /control/chats/{id}/messages      its messages (bot's and users')
    GET    /control/calls?method=&since=     API calls the bot made (since: index)
    GET    /control/callbacks                answers and unanswered queries
    PUT    /control/limits                   Limits fields, e.g. {"enabled": false}
    POST   /control/faults                   a Fault, e.g. {"kind": "retry_after", "method":
                                              "sendMessage", "retry_after": 3, "times": 1}
    DELETE /control/faults                   remove every fault
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .faults import Fault, Latency
from .limits import Limits
from .server import BotApiServer
from .world import Chat, Message

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data, ensure_ascii=False, default=str).encode(),
        content_type="application/json",
    )


def _chat_json(chat: Chat) -> dict[str, Any]:
    out = chat.to_api()
    if chat.is_group:
        out["members"] = [
            {"user": m.user.to_api(), "status": m.status, "is_anonymous": m.is_anonymous}
            for m in chat.members.values()
        ]
        out["bot_status"] = chat.bot_member.status if chat.bot_member else None
        out["migrated_to"] = chat.migrated_to
    return out


def _message_json(message: Message) -> dict[str, Any]:
    out = message.to_api()
    out["sent_by_bot"] = message.from_bot_self
    out["deleted"] = message.deleted
    return out


class ControlApi:
    def __init__(self, server: BotApiServer) -> None:
        self.server = server
        self.world = server.world

    def install(self, app: web.Application) -> None:
        routes: list[tuple[str, str, Route]] = [
            ("GET", "/control", self.summary),
            ("POST", "/control/users", self.add_user),
            ("POST", "/control/groups", self.add_group),
            ("POST", "/control/groups/{chat_id}/bot", self.add_bot),
            ("DELETE", "/control/groups/{chat_id}/bot", self.kick_bot),
            ("POST", "/control/groups/{chat_id}/bot/restrict", self.restrict_bot),
            ("POST", "/control/groups/{chat_id}/migrate", self.migrate),
            ("POST", "/control/groups/{chat_id}/members", self.add_member),
            ("POST", "/control/send", self.send),
            ("POST", "/control/document", self.document),
            ("POST", "/control/press", self.press),
            ("POST", "/control/block", self.block),
            ("POST", "/control/unblock", self.unblock),
            ("GET", "/control/chats", self.chats),
            ("GET", "/control/chats/{chat_id}/messages", self.messages),
            ("GET", "/control/calls", self.calls),
            ("GET", "/control/callbacks", self.callbacks),
            ("PUT", "/control/limits", self.limits),
            ("POST", "/control/faults", self.add_fault),
            ("DELETE", "/control/faults", self.clear_faults),
        ]
        for verb, path, handler in routes:
            app.router.add_route(verb, path, self._guard(handler))

    @staticmethod
    def _guard(handler: Route) -> Route:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except (KeyError, LookupError, ValueError, TypeError) as exc:
                return _json({"error": f"{exc.__class__.__name__}: {exc}"}, 400)

        return guarded

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("a JSON object is expected")
        return body

    def _chat(self, request: web.Request) -> Chat:
        return self.world.chat(int(request.match_info["chat_id"]))

    async def summary(self, request: web.Request) -> web.StreamResponse:
        return _json(
            {
                "base_url": self.server.base_url,
                "token": self.server.token,
                "bot": self.world.bot.to_api(),
                "users": [u.to_api() for u in self.world.users.values() if not u.is_bot],
                "chats": [c.to_api() for c in self.world.chats.values() if c.is_group],
                "pending_updates": self.world.pending_update_count,
            }
        )

    async def add_user(self, request: web.Request) -> web.StreamResponse:
        b = await self._body(request)
        user = self.world.add_user(
            b["first_name"],
            last_name=b.get("last_name"),
            username=b.get("username"),
            language_code=b.get("language_code", "id"),
            user_id=b.get("user_id"),
            started=bool(b.get("started", False)),
        )
        return _json(user.to_api(), 201)

    async def add_group(self, request: web.Request) -> web.StreamResponse:
        b = await self._body(request)
        user = self.world.user
        chat = self.world.add_group(
            b["title"],
            b.get("type", "group"),
            admins=[user(i) for i in b.get("admins", [])],
            members=[user(i) for i in b.get("members", [])],
            anonymous_admins=[user(i) for i in b.get("anonymous_admins", [])],
            username=b.get("username"),
        )
        if b.get("add_bot_by") is not None:
            self.world.add_bot_to_group(
                chat, by=user(b["add_bot_by"]), as_admin=bool(b.get("bot_admin"))
            )
        return _json(_chat_json(chat), 201)

    async def add_bot(self, request: web.Request) -> web.StreamResponse:
        b = await self._body(request)
        chat = self._chat(request)
        self.world.add_bot_to_group(
            chat, by=self.world.user(b["by"]), as_admin=bool(b.get("as_admin"))
        )
        return _json(_chat_json(chat))

    async def kick_bot(self, request: web.Request) -> web.StreamResponse:
        b = await self._body(request)
        chat = self._chat(request)
        by = self.world.user(b["by"]) if b.get("by") is not None else None
        self.world.kick_bot(chat, by)
        return _json(_chat_json(chat))

    async def restrict_bot(self, request: web.Request) -> web.StreamResponse:
        b = await self._body(request)
        chat = self._chat(request)
        by = self.world.user(b["by"]) if b.get("by") is not None else None
        self.world.restrict_bot(chat, by)  # a basic group: 400 through the guard
        return _json(_chat_json(chat))

    async def migrate(self, request: web.Request) -> web.StreamResponse:
        b = await self._body(request)
        by = self.world.user(b["by"]) if b.get("by") is not None else None
        new = self.world.migrate_to_supergroup(self._chat(request), by)
        return _json(_chat_json(new), 201)

    async def add_member(self, request: web.Request) -> web.StreamResponse:
        b = await self._body(request)
        by = self.world.user(b["by"]) if b.get("by") is not None else None
        message = self.world.add_member(self._chat(request), self.world.user(b["user_id"]), by)
        return _json(_message_json(message), 201)

    def _target(self, b: dict[str, Any]) -> Chat | None:
        return self.world.chat(int(b["chat_id"])) if b.get("chat_id") is not None else None

    async def send(self, request: web.Request) -> web.StreamResponse:
        b = await self._body(request)
        message = self.world.user_sends(
            self.world.user(b["user_id"]), self._target(b), b["text"], reply_to=b.get("reply_to")
        )
        return _json(_message_json(message), 201)

    async def document(self, request: web.Request) -> web.StreamResponse:
        b = await self._body(request)
        message = self.world.user_sends_document(
            self.world.user(b["user_id"]),
            self._target(b),
            b["filename"],
            base64.b64decode(b["content_base64"]),
            caption=b.get("caption"),
            mime_type=b.get("mime_type"),
        )
        return _json(_message_json(message), 201)

    async def press(self, request: web.Request) -> web.StreamResponse:
        b = await self._body(request)
        query_id = self.world.press_button(
            self.world.user(b["user_id"]),
            int(b["chat_id"]),
            int(b["message_id"]),
            b["callback_data"],
        )
        return _json({"callback_query_id": query_id}, 201)

    async def block(self, request: web.Request) -> web.StreamResponse:
        self.world.block_bot(self.world.user((await self._body(request))["user_id"]))
        return _json({"ok": True})

    async def unblock(self, request: web.Request) -> web.StreamResponse:
        self.world.unblock_bot(self.world.user((await self._body(request))["user_id"]))
        return _json({"ok": True})

    async def chats(self, request: web.Request) -> web.StreamResponse:
        chats = [
            _chat_json(c)
            for c in self.world.chats.values()
            if c.is_group or (c.user is not None and c.user.started)
        ]
        return _json(chats)

    async def messages(self, request: web.Request) -> web.StreamResponse:
        chat = self._chat(request)
        return _json([_message_json(m) for m in self.world.messages_in(chat, include_deleted=True)])

    async def calls(self, request: web.Request) -> web.StreamResponse:
        since = int(request.query.get("since", 0))
        method = request.query.get("method")
        calls = self.server.calls[since:]
        if method:
            calls = [c for c in calls if c.method.lower() == method.lower()]
        return _json([dataclasses.asdict(c) for c in calls])

    async def callbacks(self, request: web.Request) -> web.StreamResponse:
        return _json(
            {
                "answers": [dataclasses.asdict(a) for a in self.world.callback_answers],
                "unanswered": [q.to_api() for q in self.world.unanswered_callbacks()],
            }
        )

    async def limits(self, request: web.Request) -> web.StreamResponse:
        b = await self._body(request)
        limits = dataclasses.replace(self.server.config.limits, **b)
        self.server.set_limits(limits)
        return _json(dataclasses.asdict(limits))

    async def add_fault(self, request: web.Request) -> web.StreamResponse:
        b = await self._body(request)
        if "latency" in b:
            b["latency"] = Latency(**b["latency"])
        fault = self.server.add_fault(Fault(**b))
        return _json(dataclasses.asdict(fault), 201)

    async def clear_faults(self, request: web.Request) -> web.StreamResponse:
        self.server.faults.clear()
        return _json({"ok": True})


def install_control(server: BotApiServer) -> ControlApi:
    """Add the control routes to ``server`` (call before ``start``)."""
    control = ControlApi(server)
    server.add_routes(control.install)
    return control


__all__ = ["ControlApi", "Limits", "install_control"]
