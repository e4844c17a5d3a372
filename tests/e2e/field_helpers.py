"""What the field-report e2e tests share: a posko group, a photo, replying to the bot, a /lapor
walked through to its receipt."""

from __future__ import annotations

from sandbox.media import sample_png
from sandbox.world import Chat, Member, Message, User
from tests.e2e.harness import Harness

png = sample_png  # a real (tiny, grey) PNG image


def label(h: Harness, key: str, **params: object) -> str:
    from messages.render import render
    from messages.telegram_html import visible_text

    return visible_text(render(key, h.services.profile, h.clock.now(), params or None))


def first_line(h: Harness, key: str, **params: object) -> str:
    return label(h, key, **params).strip().splitlines()[0]


def posko_group(h: Harness, title: str = "Posko Kota", *members: User) -> Chat:
    """A group with the bot and the root admin in it (no /posko yet)."""
    chat = h.world.add_group(title, "supergroup", admins=[h.admin()], members=list(members))
    chat.bot_member = Member(h.world.bot, "member")
    return chat


async def make_posko(h: Harness, chat: Chat, who: User | None = None, args: str = "") -> Message:
    command = "/posko" + (f" {args}" if args else "")
    return await h.say(who or h.admin(), command, chat)


async def reply(h: Harness, user: User, chat: Chat | User, to: Message, body: str) -> Message:
    """`user` answers the bot's message `to` with a reply (how typed steps work in groups)."""
    where = chat
    last = h.world.last_bot_message(where)
    h.world.user_sends(user, None if isinstance(chat, User) else chat, body, reply_to=to)
    return await h.server.wait_for_message(where, after=last.message_id if last else 0)


async def reply_photo(h: Harness, user: User, chat: Chat | User, to: Message) -> Message:
    last = h.world.last_bot_message(chat)
    h.world.user_sends_photo(user, None if isinstance(chat, User) else chat, png(), reply_to=to)
    return await h.server.wait_for_message(chat, after=last.message_id if last else 0)


async def quick_report(
    h: Harness,
    leader: User,
    chat: Chat | User,
    category: str = "📦 Logistik belum tiba",
    description: str = "Kotak suara belum datang",
) -> Message:
    """A /lapor without TPS or photo, from the command to the receipt."""
    where = None if isinstance(chat, User) else chat
    start = await h.say(leader, "/lapor", where)
    step = await h.press(leader, start, category, chat=where)
    assert step is not None
    step = await h.press(leader, step, label(h, "ui.lapor.tombol_lewati"), chat=where)
    assert step is not None
    step = await reply(h, leader, chat, step, description)
    step2 = await h.press(leader, step, label(h, "ui.lapor.tombol_lanjut"), chat=where)
    assert step2 is not None
    done = await h.press(leader, step2, label(h, "ui.lapor.tombol_kirim"), chat=where)
    assert done is not None
    return done
