"""The bot's command lists per scope and language, and file downloads (getFile)."""

from __future__ import annotations

import re
from typing import Any

from .. import errors as E
from ..errors import bad_request
from .base import MethodsBase

_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_MAX_DOWNLOAD = 20 * 1024 * 1024


class CommandAndFileMethods(MethodsBase):
    def _scope_key(self, p: dict[str, Any]) -> tuple[str, int | None, int | None, str]:
        scope = p.get("scope") or {"type": "default"}
        kind = scope["type"]
        chat_id: int | None = None
        user_id: int | None = None
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat = self.world.find_chat(scope["chat_id"])
            if chat is None:
                raise bad_request(E.CHAT_NOT_FOUND)
            chat_id = chat.id
            if kind != "chat" and chat.type == "private":
                raise bad_request("can't use this scope in a private chat")
        if kind == "chat_member":
            user_id = scope["user_id"]
            if user_id not in self.world.users:
                raise bad_request("user not found")
        language = p.get("language_code", "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return kind, chat_id, user_id, language

    def m_setMyCommands(self, p: dict[str, Any]) -> bool:
        commands = p["commands"]
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"].strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(p)
        if commands:
            self.world.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.world.commands.pop(key, None)
        self.world.changed()
        return True

    def m_getMyCommands(self, p: dict[str, Any]) -> list[dict[str, str]]:
        return self.world.commands.get(self._scope_key(p), [])

    def m_deleteMyCommands(self, p: dict[str, Any]) -> bool:
        self.world.commands.pop(self._scope_key(p), None)
        self.world.changed()
        return True

    # ---- files -----------------------------------------------------------------------------

    def m_getFile(self, p: dict[str, Any]) -> dict[str, Any]:
        stored = self.world.files.get(p["file_id"].removesuffix("_s"))
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > _MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return {
            "file_id": p["file_id"],
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }
