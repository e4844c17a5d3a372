"""The Bot API as data: methods and types read from ``api.json`` (Bot API 10.1, see API_LICENSE).

The spec is loaded once and turned into small frozen lookups, so validating a request costs a few
dict look-ups per parameter rather than a walk over the JSON document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SPEC_PATH = Path(__file__).with_name("api.json")

# Abstract types name their variants in "subtypes"; the variant is told apart by a discriminator
# field whose description says "must be X" or "always “X”".
_DISCRIMINATOR = re.compile(r"(?:must be|always)\s+[“\"]?([a-z_]+)[”\"]?")


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True, slots=True)
class TypeSpec:
    name: str
    fields: dict[str, Field]
    subtypes: tuple[str, ...]
    # For a variant of an abstract type: (field name, value) that identifies it.
    discriminator: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    fields: dict[str, Field]
    returns: tuple[str, ...]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields.values() if f.required)


@dataclass(frozen=True, slots=True)
class ApiSpec:
    version: str
    methods: dict[str, MethodSpec]  # keyed by lower-case name: Telegram matches them so
    types: dict[str, TypeSpec]

    def method(self, name: str) -> MethodSpec | None:
        return self.methods.get(name.lower())

    def variant_of(self, abstract: str, obj: dict[str, object]) -> TypeSpec | None:
        """The concrete subtype of ``abstract`` that ``obj`` is, by its discriminator field."""
        spec = self.types.get(abstract)
        if spec is None:
            return None
        for sub in spec.subtypes:
            sub_spec = self.types[sub]
            if sub_spec.discriminator is None:
                continue
            key, value = sub_spec.discriminator
            if obj.get(key) == value:
                return sub_spec
        return None


def _fields(raw: list[dict[str, object]]) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for f in raw:
        name = str(f["name"])
        types = f["types"]
        assert isinstance(types, list)
        out[name] = Field(name, tuple(str(t) for t in types), bool(f["required"]))
    return out


def _discriminator(raw_fields: list[dict[str, object]]) -> tuple[str, str] | None:
    for f in raw_fields[:1]:  # the discriminator is always the first field
        desc = f.get("description", "")
        match = _DISCRIMINATOR.search(str(desc))
        if match:
            return str(f["name"]), match.group(1)
    return None


@cache
def load_spec(path: Path = SPEC_PATH) -> ApiSpec:
    data = json.loads(path.read_text(encoding="utf-8"))
    methods = {
        name.lower(): MethodSpec(
            name=name,
            fields=_fields(m.get("fields", [])),
            returns=tuple(m.get("returns", [])),
        )
        for name, m in data["methods"].items()
    }
    types = {
        name: TypeSpec(
            name=name,
            fields=_fields(t.get("fields", [])),
            subtypes=tuple(t.get("subtypes", [])),
            discriminator=_discriminator(t.get("fields", [])),
        )
        for name, t in data["types"].items()
    }
    return ApiSpec(version=data["version"], methods=methods, types=types)
