"""One validator for typed and button-carried numbers: ASCII digits, bounded, Indonesian errors."""

from __future__ import annotations

import pytest

from domain.errors import library_text
from domain.inputs import (
    INT32_MAX,
    INT64_MAX,
    INT64_MIN,
    InvalidNumber,
    parse_callback_int,
    parse_chat_id,
    parse_count,
    parse_int,
    parse_record_id,
    parse_user_id,
)
from messages.library import default_library


@pytest.mark.parametrize(
    ("raw", "value"),
    [("12", 12), (" 7 ", 7), ("#12", 12), ("# 12", 12), (str(INT32_MAX), INT32_MAX)],
)
def test_record_ids(raw: str, value: int) -> None:
    assert parse_record_id(raw) == value


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("²", "otoritas.angka.bukan_angka"),  # isdigit() says yes, int() says no
        ("١٢", "otoritas.angka.bukan_angka"),  # Arabic-Indic digits
        ("۱۲", "otoritas.angka.bukan_angka"),  # extended Arabic-Indic
        ("１２", "otoritas.angka.bukan_angka"),  # full-width
        ("12a", "otoritas.angka.bukan_angka"),
        ("1_000", "otoritas.angka.bukan_angka"),
        ("1 2", "otoritas.angka.bukan_angka"),
        ("-3", "otoritas.angka.bukan_angka"),
        ("0", "otoritas.angka.di_luar_batas"),
        (str(INT32_MAX + 1), "otoritas.angka.di_luar_batas"),
        ("9" * 25, "otoritas.angka.di_luar_batas"),
        ("1" * 30, "otoritas.angka.di_luar_batas"),
        ("", "otoritas.angka.kosong"),
        (None, "otoritas.angka.kosong"),
        ("#", "otoritas.angka.kosong"),
    ],
)
def test_bad_record_ids_get_an_indonesian_answer(raw: str | None, key: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        parse_record_id(raw)
    assert caught.value.key == key
    text = str(caught.value)
    assert text == library_text(key, **caught.value.params)
    assert "nomor siaran" in text.casefold() or "Nomor siaran" in text
    assert "Error" not in text and "int(" not in text and "Traceback" not in text


def test_user_ids_are_bounded_to_signed_64_bits() -> None:
    assert parse_user_id(str(INT64_MAX)) == INT64_MAX
    for raw in (str(INT64_MAX + 1), "9" * 20, "0", "-5", "+5x"):
        with pytest.raises(InvalidNumber):
            parse_user_id(raw)


def test_chat_ids_may_be_negative() -> None:
    assert parse_chat_id("-1001234567890") == -1001234567890
    assert parse_chat_id(str(INT64_MIN)) == INT64_MIN
    with pytest.raises(InvalidNumber):
        parse_chat_id(str(INT64_MIN - 1))
    with pytest.raises(InvalidNumber):
        parse_chat_id("--5")


def test_small_counts_have_their_own_range() -> None:
    assert parse_count("5", "RT", maximum=999) == 5
    with pytest.raises(InvalidNumber) as caught:
        parse_count("999999999999", "RT", maximum=999)
    assert str(caught.value) == (
        "RT “999999999999” tidak mungkin: harus antara 1 dan 999. Periksa lagi angkanya."
    )


def test_what_was_typed_is_quoted_short_and_plain() -> None:
    with pytest.raises(InvalidNumber) as caught:
        parse_record_id("<b>x</b>" + "y" * 1000)
    text = str(caught.value)
    assert "<b>x</b>" in text  # plain text: the handler escapes it for HTML
    assert len(text) < 200


def test_callback_data_never_raises() -> None:
    assert parse_callback_int("12") == 12
    assert parse_callback_int("-7") == -7
    for raw in ("9" * 30, "²", "", None, "x", "1e5"):
        assert parse_callback_int(raw) is None


def test_bounds_must_be_64_bit() -> None:
    with pytest.raises(ValueError):
        parse_int("1", maximum=INT64_MAX + 1)


def test_every_authority_message_renders_with_its_params() -> None:
    library = default_library()
    keys = [m.key for m in library if m.key.startswith("otoritas.")]
    assert len(keys) >= 20
    for key in keys:
        message = library.get(key)
        text = library_text(key, **{p: f"<{p}>" for p in message.params})
        assert "{" not in text and text.strip()
