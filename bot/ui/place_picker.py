"""The one place picker: kecamatan → kelurahan → RW → RT, as rows of buttons.

The flows that use it (registration, TPS lookup) give it how a pick becomes callback data and
put their own words above the buttons; the picker knows the map and how buttons are laid out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import BotContext
from bot.ui.views import Rows, in_rows, text
from domain import places
from domain.inputs import parse_callback_int
from domain.places import Place
from domain.subscriptions import MAX_NUMBER

PAGE = 30  # number buttons per page: 1-30, 31-60, ...


async def kecamatan_rows(
    context: BotContext, session: AsyncSession, pick: Callable[[str], str]
) -> Rows:
    """Every kecamatan, two a row; `pick(code)` is the button's data."""
    names = await places.kecamatan_list(session)
    return in_rows(
        [(text(context, "ui.tempat.kecamatan", nama=name), pick(code)) for code, name in names], 2
    )


async def kelurahan_rows(
    session: AsyncSession, kecamatan_code: str, pick: Callable[[str], str]
) -> tuple[str, Rows]:
    """The kecamatan's name and its kelurahan, two a row. ValueError for an unknown code."""
    name = await places.kecamatan_name(session, kecamatan_code)
    if name is None:
        raise ValueError(kecamatan_code)
    kelurahan = await places.kelurahan_in(session, kecamatan_code)
    return name, in_rows([(p.name, pick(p.code)) for p in kelurahan], 2)


async def kelurahan(session: AsyncSession, code: str) -> Place:
    """The picked kelurahan. ValueError for a code that names none."""
    where = await places.place(session, code)
    if where is None:
        raise ValueError(code)
    return where


def number_arg(raw: str, maximum: int = MAX_NUMBER) -> int:
    """A number a button carries (RW, RT, page; 0 allowed). ValueError for forged data."""
    value = parse_callback_int(raw)
    if value is None or not 0 <= value <= maximum:
        raise ValueError(raw)
    return value


def listed_rows(
    context: BotContext, key: str, numbers: Iterable[int], pick: Callable[[int], str]
) -> Rows:
    """The RW or RT a register lists ('RW 05'), five a row; `key` labels one number."""
    return in_rows([(text(context, key, nomor=f"{n:02d}"), pick(n)) for n in numbers], 5)


def number_page(
    context: BotContext, page: int, pick: Callable[[int], str], turn: Callable[[int], str]
) -> Rows:
    """Any number 1..MAX_NUMBER, one page of PAGE (six a row), and the way to the other pages.
    ValueError for a page that does not exist."""
    if not 0 <= page * PAGE < MAX_NUMBER:
        raise ValueError(page)
    first = page * PAGE + 1
    last = min(first + PAGE - 1, MAX_NUMBER)
    rows = in_rows([(str(n), pick(n)) for n in range(first, last + 1)], 6)
    nav: list[tuple[str, str]] = []
    if page > 0:
        label = text(context, "ui.tempat.halaman_sebelum", dari=first - PAGE, sampai=first - 1)
        nav.append((label, turn(page - 1)))
    if last < MAX_NUMBER:
        upto = min(last + PAGE, MAX_NUMBER)
        nav.append(
            (text(context, "ui.tempat.halaman_berikut", dari=last + 1, sampai=upto), turn(page + 1))
        )
    if nav:
        rows.append(list(nav))
    return rows
