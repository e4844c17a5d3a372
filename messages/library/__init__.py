"""The message library: TOML files in this folder, one per theme, loaded and validated.

Each file holds ``[[message]]`` tables::

    [[message]]
    key = "netralitas.rt_rw"          # dotted, lower case, unique across all files
    title = "Grup RT/RW ruang netral" # short Indonesian title, for officials' menus
    audience = "rw_rt_groups"         # rw_rt_groups | all_groups | residents | officials
    text = \"\"\"
    Telegram HTML with {placeholders} …
    \"\"\"
    # optional:
    format = "html"                   # or "plain" (button labels, callback answers)
    max_length = 64                   # stricter than Telegram's 4096
    params = ["nama_grup"]            # values the caller must pass in ``extra``
    notes = "source of the facts"     # for editors; never sent
    after_voting = true               # sent only after the polls close: the check makes sure
                                      # it never asks anyone to go to the TPS

The text is stripped of leading/trailing whitespace; placeholders are ``{name}`` (see
``messages.context.PLACEHOLDERS``), a literal brace is written ``{{`` or ``}}``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

LIBRARY_DIR = Path(__file__).resolve().parent
TELEGRAM_LIMIT = 4096

KEY_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
PARAM_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*$")


class Audience(StrEnum):
    RW_RT_GROUPS = "rw_rt_groups"
    ALL_GROUPS = "all_groups"
    RESIDENTS = "residents"
    OFFICIALS = "officials"


class TextFormat(StrEnum):
    HTML = "html"
    PLAIN = "plain"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one message (or one file, when ``key`` is the file name)."""

    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.key}: {self.reason}"


class LibraryError(Exception):
    """The library cannot be loaded; ``problems`` lists every reason, one per key."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class UnknownMessageError(LookupError):
    """No message with that key."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"pesan {key!r} tidak ada di pustaka pesan")

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Message:
    key: str
    title: str
    audience: Audience
    text: str
    format: TextFormat = TextFormat.HTML
    max_length: int = TELEGRAM_LIMIT
    params: tuple[str, ...] = ()
    notes: str = ""
    after_voting: bool = False
    source: str = field(default="", compare=False)

    @property
    def is_html(self) -> bool:
        return self.format is TextFormat.HTML


@dataclass(frozen=True)
class Library:
    """Messages by key, in file order (files sorted by name)."""

    messages: dict[str, Message]
    source: Path | None = None

    def get(self, key: str) -> Message:
        try:
            return self.messages[key]
        except KeyError:
            raise UnknownMessageError(key) from None

    def keys(self) -> list[str]:
        return list(self.messages)

    def by_audience(self, audience: Audience | str) -> list[Message]:
        wanted = Audience(audience)
        return [m for m in self.messages.values() if m.audience is wanted]

    def __contains__(self, key: object) -> bool:
        return key in self.messages

    def __iter__(self) -> Iterator[Message]:
        return iter(self.messages.values())

    def __len__(self) -> int:
        return len(self.messages)


_REQUIRED = ("key", "title", "audience", "text")
_OPTIONAL = ("format", "max_length", "params", "notes", "after_voting")


def _message_from(raw: object, index: int, file: Path) -> tuple[Message | None, list[Problem]]:
    where = f"(berkas {file.name}, pesan ke-{index + 1})"
    if not isinstance(raw, dict):
        return None, [Problem(file.name, f"[[message]] ke-{index + 1} bukan tabel")]
    key = raw.get("key")
    label = key if isinstance(key, str) and key else f"{file.name}#{index + 1}"
    problems: list[Problem] = []

    def bad(reason: str) -> None:
        problems.append(Problem(label, f"{reason} {where}"))

    for name in _REQUIRED:
        value = raw.get(name)
        if value is None:
            bad(f"kolom wajib '{name}' tidak ada")
        elif not isinstance(value, str) or not value.strip():
            bad(f"kolom '{name}' harus teks yang tidak kosong")
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        bad(f"kolom tidak dikenal: {', '.join(unknown)}")
    if isinstance(key, str) and key and not KEY_PATTERN.match(key):
        bad("kunci harus huruf kecil bertitik, mis. 'netralitas.rt_rw'")
    audience = raw.get("audience")
    if isinstance(audience, str) and audience not in Audience._value2member_map_:
        choices = ", ".join(a.value for a in Audience)
        bad(f"audience {audience!r} tidak dikenal (pilih: {choices})")
    fmt = raw.get("format", TextFormat.HTML.value)
    if fmt not in TextFormat._value2member_map_:
        bad(f"format {fmt!r} tidak dikenal (pilih: html, plain)")
    max_length = raw.get("max_length", TELEGRAM_LIMIT)
    if (
        not isinstance(max_length, int)
        or isinstance(max_length, bool)
        or not 1 <= max_length <= TELEGRAM_LIMIT
    ):
        bad(f"max_length harus bilangan 1..{TELEGRAM_LIMIT}")
    params = raw.get("params", [])
    if not isinstance(params, list) or not all(
        isinstance(p, str) and PARAM_PATTERN.match(p) for p in params
    ):
        bad('params harus daftar nama, mis. ["nama_grup"]')
    notes = raw.get("notes", "")
    if not isinstance(notes, str):
        bad("notes harus teks")
    after_voting = raw.get("after_voting", False)
    if not isinstance(after_voting, bool):
        bad("after_voting harus true atau false")
    if problems:
        return None, problems
    assert isinstance(key, str) and isinstance(audience, str)
    return (
        Message(
            key=key,
            title=str(raw["title"]).strip(),
            audience=Audience(audience),
            text=str(raw["text"]).strip(),
            format=TextFormat(fmt),
            max_length=max_length,
            params=tuple(params),
            notes=notes,
            after_voting=after_voting,
            source=file.name,
        ),
        [],
    )


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.glob("*.toml") if p.is_file())
    return [path]


def load_library(path: Path | str | None = None) -> Library:
    """Load every ``*.toml`` in ``path`` (a folder, or one file); default: the shipped library.

    Raises ``LibraryError`` listing every problem: unreadable TOML, missing or unknown fields,
    a bad key or audience, a key used twice.
    """
    root = Path(path) if path is not None else LIBRARY_DIR
    if not root.exists():
        raise LibraryError([Problem(str(root), "pustaka pesan tidak ditemukan")])
    files = _files(root)
    if not files:
        raise LibraryError([Problem(str(root), "tidak ada berkas *.toml di folder ini")])
    problems: list[Problem] = []
    messages: dict[str, Message] = {}
    for file in files:
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(file.name, f"tidak dapat dibaca: {exc}"))
            continue
        except tomllib.TOMLDecodeError as exc:
            problems.append(Problem(file.name, f"bukan TOML yang sah: {exc}"))
            continue
        extra = sorted(set(raw) - {"message"})
        if extra:
            problems.append(
                Problem(file.name, f"hanya [[message]] yang boleh ada; ditemukan: {extra}")
            )
        entries = raw.get("message", [])
        if not isinstance(entries, list) or not entries:
            problems.append(Problem(file.name, "tidak berisi [[message]]"))
            continue
        for index, entry in enumerate(entries):
            message, found = _message_from(entry, index, file)
            problems.extend(found)
            if message is None:
                continue
            if message.key in messages:
                first = messages[message.key].source
                problems.append(
                    Problem(
                        message.key,
                        f"kunci ganda: sudah dipakai di {first}, dipakai lagi di {file.name}",
                    )
                )
                continue
            messages[message.key] = message
    if problems:
        raise LibraryError(problems)
    return Library(messages=messages, source=root)


_default: Library | None = None


def default_library() -> Library:
    """The shipped library, loaded once."""
    global _default
    if _default is None:
        _default = load_library()
    return _default
