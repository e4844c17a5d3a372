"""Check a request's parameters against the spec and turn form strings into typed values.

Telegram reads every body the same way: a form field holds a string, so integers, booleans and
JSON-serialized objects arrive as text (python-telegram-bot sends them so). Top-level values are
therefore coerced from strings; values inside JSON objects must already have their JSON type.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, bad_request
from .spec import ApiSpec, MethodSpec

_INT = re.compile(r"-?\d+")
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})

# Telegram's own words for a missing required parameter, where it has special ones.
_MISSING = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
    "user_id": "invalid user_id specified",
    "photo": "there is no photo in the request",
    "document": "there is no document in the request",
    "callback_query_id": "QUERY_ID_INVALID",
    "message_id": "message identifier is not specified",
    "file_id": "invalid file_id",
    "action": "wrong parameter action in request",
    "url": "bad webhook: an HTTPS URL must be provided for webhook",
}
_JSON_NAMES = {
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "entities",
    "link_preview_options": "link preview options",
    "reply_parameters": "reply parameters",
    "commands": "BotCommand array",
    "scope": "BotCommandScope",
}
_PRIMITIVES = frozenset({"Integer", "String", "Boolean", "Float", "InputFile"})


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


class _Mismatch(Exception):
    pass


# python-telegram-bot's Defaults add these to calls whose method has no such parameter (e.g.
# parse_mode on editMessageReplyMarkup); Telegram ignores them, so strict mode does too.
PTB_DEFAULT_PARAMETERS = frozenset(
    {
        "parse_mode",
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "link_preview_options",
        "disable_web_page_preview",
    }
)


@dataclass(slots=True)
class Validator:
    spec: ApiSpec
    strict: bool = True

    def validate(self, method: MethodSpec, raw: dict[str, Any]) -> dict[str, Any]:
        """Typed parameters of a call, or an ApiError with Telegram's description."""
        out: dict[str, Any] = {}
        fields = method.fields
        for name, value in raw.items():
            field = fields.get(name)
            if field is None:
                if self.strict and name not in PTB_DEFAULT_PARAMETERS:
                    raise bad_request(f"unknown parameter {name}")
                continue
            if value is None or (value == "" and "String" not in field.types):
                continue  # Telegram treats an empty form field as absent
            out[name] = self._top_level(name, value, field.types)
        for name in method.required:
            if name not in out:
                raise bad_request(_MISSING.get(name, f'parameter "{name}" is required'))
        return out

    def _top_level(self, name: str, value: Any, types: tuple[str, ...]) -> Any:
        for t in types:
            try:
                return self._convert(value, t, name, top=True)
            except _Mismatch:
                continue
        raise bad_request(f'field "{name}" must be of type {" or ".join(types)}')

    def _convert(self, value: Any, t: str, where: str, *, top: bool = False) -> Any:
        if t == "Integer":
            if isinstance(value, bool):
                raise _Mismatch
            if isinstance(value, int):
                return value
            if top and isinstance(value, str) and _INT.fullmatch(value.strip()):
                return int(value)
            raise _Mismatch
        if t == "String":
            if isinstance(value, str):
                return value
            if top and isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
            raise _Mismatch
        if t == "Boolean":
            if isinstance(value, bool):
                return value
            if top and isinstance(value, str):
                low = value.lower()
                if low in _TRUE:
                    return True
                if low in _FALSE:
                    return False
            raise _Mismatch
        if t == "Float":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            if top and isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    raise _Mismatch from None
            raise _Mismatch
        if t == "InputFile":
            if isinstance(value, UploadedFile):
                return value
            raise _Mismatch
        if top and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                what = _JSON_NAMES.get(where, where)
                raise bad_request(f"can't parse {what} JSON object") from None
        if t.startswith("Array of "):
            if not isinstance(value, list):
                raise _Mismatch
            inner = t[len("Array of ") :]
            return [self._nested(item, inner, where) for item in value]
        if t in self.spec.types:
            if not isinstance(value, dict):
                raise _Mismatch
            return self._object(value, t, where)
        raise _Mismatch

    def _nested(self, value: Any, t: str, where: str) -> Any:
        try:
            return self._convert(value, t, where)
        except _Mismatch:
            kind = t if t in _PRIMITIVES or t.startswith("Array") else f"an {t} object"
            raise bad_request(f'field "{where}" must be of type {kind}') from None

    def _object(self, obj: dict[str, Any], type_name: str, where: str) -> dict[str, Any]:
        spec = self.spec.types[type_name]
        if spec.subtypes:
            variant = self.spec.variant_of(type_name, obj)
            if variant is None:
                raise bad_request(f"unsupported {type_name} type in {where}")
            spec = variant
        for key, value in obj.items():
            field = spec.fields.get(key)
            if field is None:
                if self.strict:
                    raise bad_request(f'unknown field "{key}" in {spec.name} of {where}')
                continue
            ok = False
            for t in field.types:
                try:
                    obj[key] = self._convert(value, t, key)
                    ok = True
                    break
                except _Mismatch:
                    continue
            if not ok:
                raise bad_request(
                    f'field "{key}" of {spec.name} must be of type {" or ".join(field.types)}'
                )
        for field in spec.fields.values():
            if field.required and field.name not in obj:
                raise bad_request(f'field "{field.name}" of {spec.name} is missing')
        return obj


def check_object(spec: ApiSpec, type_name: str, obj: Any, path: str = "") -> list[str]:
    """Problems with an object the server produced (for tests: answers must match the spec)."""
    problems: list[str] = []
    if type_name.startswith("Array of "):
        if not isinstance(obj, list):
            return [f"{path}: expected array"]
        for i, item in enumerate(obj):
            problems += check_object(spec, type_name[9:], item, f"{path}[{i}]")
        return problems
    primitive = {"Integer": int, "String": str, "Boolean": bool, "Float": (int, float)}
    if type_name in primitive:
        if not isinstance(obj, primitive[type_name]):  # type: ignore[arg-type]
            problems.append(f"{path}: expected {type_name}, got {type(obj).__name__}")
        return problems
    tspec = spec.types.get(type_name)
    if tspec is None:
        return problems
    if not isinstance(obj, dict):
        return [f"{path}: expected {type_name} object"]
    if tspec.subtypes:
        variant = spec.variant_of(type_name, obj)
        if variant is None and type_name == "MaybeInaccessibleMessage":
            variant = spec.types["InaccessibleMessage" if obj.get("date") == 0 else "Message"]
        if variant is None:
            return [f"{path}: no variant of {type_name} matches"]
        tspec = variant
    for key, value in obj.items():
        field = tspec.fields.get(key)
        if field is None:
            problems.append(f"{path}.{key}: not a field of {tspec.name}")
            continue
        options = [check_object(spec, t, value, f"{path}.{key}") for t in field.types]
        if all(options):
            problems += options[0]
    for field in tspec.fields.values():
        if field.required and field.name not in obj:
            problems.append(f"{path}.{field.name}: required in {tspec.name}")
    return problems


__all__ = ["ApiError", "UploadedFile", "Validator", "check_object"]
