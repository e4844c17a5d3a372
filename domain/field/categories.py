"""The categories of field reports, read from categories.toml (data, not code)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class Category:
    key: str
    label: str  # library key of its button label
    referral: str  # library key of the referral to the right channel
    details: tuple[str, ...] = ()

    def detail_label(self, detail: str) -> str:
        return f"{self.label}_{detail}"


@cache
def categories() -> tuple[Category, ...]:
    raw = tomllib.loads(files("domain.field").joinpath("categories.toml").read_text("utf-8"))
    return tuple(
        Category(c["key"], c["label"], c["referral"], tuple(c.get("details", ())))
        for c in raw["category"]
    )


def category(key: str) -> Category | None:
    return next((c for c in categories() if c.key == key), None)


def keys() -> tuple[str, ...]:
    return tuple(c.key for c in categories())
