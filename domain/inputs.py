"""One validator for every id and number a person types or a button carries.

Only ASCII digits count ("²" and Arabic-Indic digits pass ``str.isdigit`` but are not ids), an
optional sign only where negative values exist (chat ids), and every value is bounded before
it reaches the database: user and chat ids to signed 64 bits, row ids (broadcasts, requests)
to the 32-bit INTEGER of PostgreSQL. A 30-digit id is refused with an Indonesian message, not
an OverflowError in a handler.
"""

from __future__ import annotations

import re

from domain.errors import LibraryError

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
INT32_MAX = 2**31 - 1

_DIGITS = re.compile(r"[0-9]{1,19}")
_SHOWN = 24  # at most this many characters of what was typed are quoted back


class InvalidNumber(LibraryError, ValueError):
    """What was typed is not an acceptable number; the message says what to type instead."""


def _shown(raw: str) -> str:
    text = " ".join(raw.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def parse_int(
    raw: str | None,
    *,
    what: str = "angka",
    example: str = "12",
    minimum: int = 0,
    maximum: int = INT64_MAX,
    prefix: str = "",
) -> int:
    """``raw`` as an int in [minimum, maximum], or InvalidNumber with an Indonesian message.

    ``prefix``: characters allowed once in front and ignored ("#" for "#12")."""
    if not INT64_MIN <= minimum <= maximum <= INT64_MAX:
        raise ValueError("bounds must lie inside signed 64 bits")
    text = (raw or "").strip()
    if prefix and text[:1] in prefix:
        text = text[1:].lstrip()
    if not text:
        raise InvalidNumber.of("otoritas.angka.kosong", what=what, example=example)
    sign = 1
    if text[0] in "+-" and minimum < 0:
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if not _DIGITS.fullmatch(text):
        if re.fullmatch(r"[0-9]+", text):  # ASCII digits, but more than any id has
            raise InvalidNumber.of(
                "otoritas.angka.di_luar_batas",
                what=what[:1].upper() + what[1:],
                value=_shown(raw or ""),
                minimum=minimum,
                maximum=maximum,
            )
        raise InvalidNumber.of(
            "otoritas.angka.bukan_angka", what=what, value=_shown(raw or ""), example=example
        )
    value = sign * int(text)
    if not minimum <= value <= maximum:
        raise InvalidNumber.of(
            "otoritas.angka.di_luar_batas",
            what=what[:1].upper() + what[1:],
            value=_shown(raw or ""),
            minimum=minimum,
            maximum=maximum,
        )
    return value


def parse_user_id(raw: str | None) -> int:
    """A Telegram user id: positive, at most signed 64 bits."""
    return parse_int(raw, what="ID pengguna", example="123456789", minimum=1)


def parse_chat_id(raw: str | None) -> int:
    """A Telegram chat id: groups are negative; signed 64 bits."""
    return parse_int(raw, what="ID grup", example="-1001234567890", minimum=INT64_MIN)


def parse_record_id(raw: str | None, what: str = "nomor siaran") -> int:
    """A row id (broadcast, request): positive, 32-bit, "#12" accepted."""
    return parse_int(raw, what=what, example="12", minimum=1, maximum=INT32_MAX, prefix="#")


def parse_request_id(raw: str | None) -> int:
    """A pending request's number (/petugas setujui 3)."""
    return parse_record_id(raw, "nomor permintaan")


def parse_entry_id(raw: str | None) -> int:
    """An audit entry's number (/audit sebelum 120)."""
    return parse_record_id(raw, "nomor catatan")


def parse_count(raw: str | None, what: str, maximum: int, minimum: int = 1) -> int:
    """A small number with a known range (RT, RW, a page): "RT harus antara 1 dan 999"."""
    return parse_int(raw, what=what, example=str(minimum), minimum=minimum, maximum=maximum)


def parse_callback_int(raw: str | None) -> int | None:
    """A number carried in callback data; None for forged or stale data (answer the press with
    ``otoritas.tombol.tidak_berlaku``), never an exception."""
    try:
        return parse_int(raw, minimum=INT64_MIN)
    except InvalidNumber:
        return None
