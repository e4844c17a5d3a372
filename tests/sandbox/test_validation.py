"""Requests Telegram refuses are refused here with Telegram's status and words."""

from __future__ import annotations

import aiohttp
import pytest

from sandbox import BotApiServer, Limits, User
from sandbox.errors import MESSAGE_NOT_MODIFIED, QUERY_TOO_OLD

from .helpers import call, keyboard

pytestmark = pytest.mark.sandbox(limits=Limits.off())


@pytest.fixture
def siti(bot_api_server: BotApiServer) -> User:
    return bot_api_server.world.add_user("Siti", username="siti_rt05", started=True)


def bad(description: str) -> tuple[int, dict[str, object]]:
    return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}


async def test_a_valid_message_is_sent_and_stored(bot_api_server: BotApiServer, siti: User):
    status, body = await call(bot_api_server, "sendMessage", chat_id=siti.id, text="Halo warga")
    assert status == 200 and body["ok"] is True
    assert body["result"]["text"] == "Halo warga"
    assert body["result"]["chat"]["id"] == siti.id
    assert [m.text for m in bot_api_server.messages_in(siti)] == ["Halo warga"]


@pytest.mark.parametrize("body", ["form", "json"])
async def test_form_and_json_bodies_are_read_alike(
    bot_api_server: BotApiServer, siti: User, body: str
):
    status, answer = await call(
        bot_api_server,
        "sendMessage",
        body=body,
        chat_id=siti.id,
        text="pilih",
        reply_markup=keyboard("ya", "tidak"),
        disable_notification=True,
    )
    assert status == 200, answer
    assert answer["result"]["reply_markup"] == keyboard("ya", "tidak")


async def test_get_with_query_string_and_case_insensitive_method(
    bot_api_server: BotApiServer, siti: User
):
    url = f"{bot_api_server.api_url}{bot_api_server.token}/SENDMESSAGE"
    async with (
        aiohttp.ClientSession() as s,
        s.get(url, params={"chat_id": siti.id, "text": "x"}) as r,
    ):
        assert r.status == 200
        assert (await r.json())["result"]["text"] == "x"


async def test_unknown_method_and_bad_tokens(bot_api_server: BotApiServer):
    assert await call(bot_api_server, "sendCarrierPigeon") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    base = bot_api_server.api_url
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{base}123456:wrongtokenwrongtokenwrongtoken12345/getMe") as r:
            assert (r.status, (await r.json())["description"]) == (401, "Unauthorized")
        async with s.get(f"{base}not-a-token/getMe") as r:
            assert (r.status, (await r.json())["description"]) == (404, "Not Found")


async def test_unknown_parameter_is_refused_in_strict_mode(
    bot_api_server: BotApiServer, siti: User
):
    answer = await call(bot_api_server, "sendMessage", chat_id=siti.id, text="x", colour="red")
    assert answer == bad("unknown parameter colour")


@pytest.mark.sandbox(strict=False, limits=Limits.off())
async def test_unknown_parameter_is_ignored_when_lenient(bot_api_server: BotApiServer, siti: User):
    status, _ = await call(bot_api_server, "sendMessage", chat_id=siti.id, text="x", colour="red")
    assert status == 200


async def test_missing_required_parameters(bot_api_server: BotApiServer, siti: User):
    assert await call(bot_api_server, "sendMessage", text="x") == bad("chat_id is empty")
    assert await call(bot_api_server, "sendMessage", chat_id=siti.id) == bad(
        "message text is empty"
    )
    assert await call(bot_api_server, "getChatMember", chat_id=siti.id) == bad(
        "invalid user_id specified"
    )


async def test_wrong_types(bot_api_server: BotApiServer, siti: User):
    assert await call(
        bot_api_server, "editMessageText", chat_id=siti.id, message_id="tiga", text="x"
    ) == bad('field "message_id" must be of type Integer')
    assert await call(
        bot_api_server,
        "sendMessage",
        body="json",
        chat_id=siti.id,
        text="x",
        disable_notification="maybe",
    ) == bad('field "disable_notification" must be of type Boolean')
    assert await call(
        bot_api_server, "sendMessage", chat_id=siti.id, text="x", reply_markup="{not json"
    ) == bad("can't parse reply keyboard markup JSON object")
    assert await call(
        bot_api_server,
        "sendMessage",
        body="json",
        chat_id=siti.id,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": "a", "callback_data": 5}]]},
    ) == bad('field "callback_data" of InlineKeyboardButton must be of type String')


async def test_text_length_is_counted_after_entity_parsing(
    bot_api_server: BotApiServer, siti: User
):
    ok = await call(
        bot_api_server,
        "sendMessage",
        chat_id=siti.id,
        text=f"<b>{'a' * 4096}</b>",
        parse_mode="HTML",
    )
    assert ok[0] == 200
    assert await call(bot_api_server, "sendMessage", chat_id=siti.id, text="a" * 4097) == bad(
        "message is too long"
    )
    # An emoji outside the BMP counts two, as in Telegram's UTF-16 count.
    assert await call(bot_api_server, "sendMessage", chat_id=siti.id, text="😀" * 2049) == bad(
        "message is too long"
    )


@pytest.mark.parametrize("text", ["", "   \n ", "<b> </b>"])
async def test_empty_text(bot_api_server: BotApiServer, siti: User, text: str):
    answer = await call(
        bot_api_server, "sendMessage", chat_id=siti.id, text=text, parse_mode="HTML"
    )
    assert answer == bad("message text is empty")


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("Halo <foo>warga</foo>", 'Unsupported start tag "foo" at byte offset 5'),
        ("Jam <b>07.00", 'Can\'t find end tag corresponding to start tag "b"'),
        ("skor 3 < 5", 'Unsupported start tag "" at byte offset 7'),
        ("<b>tebal</i>", 'Unmatched end tag at byte offset 8, expected "</b>", found "</i>"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4 (sandbox strict mode; write &amp;)'),
        ("TPS &nbsp;1", 'Unescaped "&" at byte offset 4 (sandbox strict mode; write &amp;)'),
    ],
)
async def test_html_telegram_cannot_parse(
    bot_api_server: BotApiServer, siti: User, html: str, reason: str
):
    answer = await call(
        bot_api_server, "sendMessage", chat_id=siti.id, text=html, parse_mode="HTML"
    )
    assert answer == bad(f"can't parse entities: {reason}")


async def test_byte_offsets_count_utf8_bytes(bot_api_server: BotApiServer, siti: User):
    answer = await call(
        bot_api_server, "sendMessage", chat_id=siti.id, text="é <x>", parse_mode="HTML"
    )
    assert answer == bad('can\'t parse entities: Unsupported start tag "x" at byte offset 3')


async def test_every_allowed_tag_parses_into_entities(bot_api_server: BotApiServer, siti: User):
    html = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        '<strike>k</strike><del>d</del><span class="tg-spoiler">p</span><tg-spoiler>t</tg-spoiler>'
        '<a href="https://kpu.go.id">a</a><code>c</code><pre><code class="language-python">x'
        "</code></pre><blockquote expandable>q</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        " &lt;&gt;&amp;&quot;&#65;&#x42;"
    )
    status, body = await call(
        bot_api_server, "sendMessage", chat_id=siti.id, text=html, parse_mode="HTML"
    )
    assert status == 200, body
    result = body["result"]
    assert result["text"] == 'bsieunskdptacxq👍 <>&"AB'
    kinds = [e["type"] for e in result["entities"]]
    assert kinds == [
        "bold", "bold", "italic", "italic", "underline", "underline", "strikethrough",
        "strikethrough", "strikethrough", "spoiler", "spoiler", "text_link", "code", "pre",
        "expandable_blockquote", "custom_emoji",
    ]  # fmt: skip
    pre = result["entities"][13]
    assert pre["language"] == "python"


async def test_callback_data_must_be_1_to_64_bytes(bot_api_server: BotApiServer, siti: User):
    for data in ("", "x" * 65, "é" * 33):
        answer = await call(
            bot_api_server, "sendMessage", chat_id=siti.id, text="x", reply_markup=keyboard(data)
        )
        assert answer == bad("BUTTON_DATA_INVALID"), data
    status, _ = await call(
        bot_api_server, "sendMessage", chat_id=siti.id, text="x", reply_markup=keyboard("é" * 32)
    )
    assert status == 200


async def test_at_most_100_buttons(bot_api_server: BotApiServer, siti: User):
    rows = [
        [{"text": f"{r}.{c}", "callback_data": f"{r}.{c}"} for c in range(8)] for r in range(13)
    ]
    answer = await call(
        bot_api_server,
        "sendMessage",
        chat_id=siti.id,
        text="x",
        reply_markup={"inline_keyboard": rows},
    )
    assert answer == bad("BUTTONS_TOO_MUCH")
    rows[-1] = rows[-1][:4]  # 12 * 8 + 4 = 100
    status, _ = await call(
        bot_api_server,
        "sendMessage",
        chat_id=siti.id,
        text="x",
        reply_markup={"inline_keyboard": rows},
    )
    assert status == 200


async def test_a_button_without_an_action(bot_api_server: BotApiServer, siti: User):
    answer = await call(
        bot_api_server,
        "sendMessage",
        chat_id=siti.id,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": "just text"}]]},
    )
    assert answer == bad("text buttons are unallowed in the inline keyboard")


async def test_chat_not_found(bot_api_server: BotApiServer):
    assert await call(bot_api_server, "sendMessage", chat_id=424242, text="x") == bad(
        "chat not found"
    )
    assert await call(bot_api_server, "sendMessage", chat_id="@nobody_here", text="x") == bad(
        "chat not found"
    )


async def test_editing(bot_api_server: BotApiServer, siti: User):
    _, sent = await call(
        bot_api_server, "sendMessage", chat_id=siti.id, text="Rapat", reply_markup=keyboard("ok")
    )
    mid = sent["result"]["message_id"]
    assert await call(
        bot_api_server, "editMessageText", chat_id=siti.id, message_id=999, text="x"
    ) == bad("message to edit not found")
    same = await call(
        bot_api_server,
        "editMessageText",
        chat_id=siti.id,
        message_id=mid,
        text="Rapat",
        reply_markup=keyboard("ok"),
    )
    assert same == bad(MESSAGE_NOT_MODIFIED)
    # Leaving the keyboard out of an edit removes it, as on Telegram: that is a modification.
    status, edited = await call(
        bot_api_server, "editMessageText", chat_id=siti.id, message_id=mid, text="Rapat"
    )
    assert status == 200 and "reply_markup" not in edited["result"]
    assert "edit_date" in edited["result"]
    assert await call(
        bot_api_server, "editMessageReplyMarkup", chat_id=siti.id, message_id=mid
    ) == bad(MESSAGE_NOT_MODIFIED)
    status, _ = await call(
        bot_api_server,
        "editMessageReplyMarkup",
        chat_id=siti.id,
        message_id=mid,
        reply_markup=keyboard("lagi"),
    )
    assert status == 200
    assert bot_api_server.messages_in(siti)[0].buttons()[0]["callback_data"] == "lagi"


async def test_users_messages_cannot_be_edited(bot_api_server: BotApiServer, siti: User):
    message = bot_api_server.world.user_sends(siti, None, "halo")
    answer = await call(
        bot_api_server, "editMessageText", chat_id=siti.id, message_id=message.message_id, text="x"
    )
    assert answer == bad("message can't be edited")


async def test_deleting(bot_api_server: BotApiServer, siti: User):
    _, sent = await call(bot_api_server, "sendMessage", chat_id=siti.id, text="hapus aku")
    mid = sent["result"]["message_id"]
    assert (await call(bot_api_server, "deleteMessage", chat_id=siti.id, message_id=mid))[0] == 200
    assert bot_api_server.messages_in(siti) == []
    assert await call(bot_api_server, "deleteMessage", chat_id=siti.id, message_id=mid) == bad(
        "message to delete not found"
    )


async def test_callback_answers(bot_api_server: BotApiServer, siti: User):
    world = bot_api_server.world
    _, sent = await call(
        bot_api_server,
        "sendMessage",
        chat_id=siti.id,
        text="Sudah baca?",
        reply_markup=keyboard("ack"),
    )
    query_id = world.press_button(siti, siti, sent["result"]["message_id"], "ack")
    assert [q.id for q in world.unanswered_callbacks()] == [query_id]
    status, _ = await call(
        bot_api_server, "answerCallbackQuery", callback_query_id=query_id, text="Terima kasih"
    )
    assert status == 200
    assert world.unanswered_callbacks() == []
    assert [(a.callback_query_id, a.text) for a in world.callback_answers] == [
        (query_id, "Terima kasih")
    ]
    # A second answer, or an unknown id, is "too old" for Telegram.
    assert await call(bot_api_server, "answerCallbackQuery", callback_query_id=query_id) == bad(
        QUERY_TOO_OLD
    )
    assert await call(bot_api_server, "answerCallbackQuery", callback_query_id="123") == bad(
        QUERY_TOO_OLD
    )


@pytest.mark.sandbox(limits=Limits.off(), callback_answer_timeout=0.0)
async def test_a_late_callback_answer_is_too_old(bot_api_server: BotApiServer, siti: User):
    _, sent = await call(
        bot_api_server, "sendMessage", chat_id=siti.id, text="?", reply_markup=keyboard("a")
    )
    query_id = bot_api_server.world.press_button(siti, siti, sent["result"]["message_id"], "a")
    assert await call(bot_api_server, "answerCallbackQuery", callback_query_id=query_id) == bad(
        QUERY_TOO_OLD
    )
    assert [q.id for q in bot_api_server.world.unanswered_callbacks()] == [query_id]


async def test_pressing_a_button_that_is_not_there_is_a_test_mistake(
    bot_api_server: BotApiServer, siti: User
):
    _, sent = await call(
        bot_api_server, "sendMessage", chat_id=siti.id, text="?", reply_markup=keyboard("a")
    )
    with pytest.raises(LookupError):
        bot_api_server.world.press_button(siti, siti, sent["result"]["message_id"], "b")


async def test_photo_must_be_an_image(bot_api_server: BotApiServer, siti: User):
    url = f"{bot_api_server.api_url}{bot_api_server.token}/sendPhoto"
    form = aiohttp.FormData()
    form.add_field("chat_id", str(siti.id))
    form.add_field("photo", b"not an image", filename="chart.png", content_type="image/png")
    async with aiohttp.ClientSession() as s, s.post(url, data=form) as r:
        assert (r.status, (await r.json())["description"]) == (
            400,
            "Bad Request: IMAGE_PROCESS_FAILED",
        )


async def test_chat_action(bot_api_server: BotApiServer, siti: User):
    assert (await call(bot_api_server, "sendChatAction", chat_id=siti.id, action="typing"))[
        0
    ] == 200
    assert await call(bot_api_server, "sendChatAction", chat_id=siti.id, action="dancing") == bad(
        "wrong parameter action in request"
    )
    assert [a[:2] for a in bot_api_server.world.chat_actions] == [(siti.id, "typing")]


async def test_parameters_that_ptb_defaults_add_are_ignored_like_telegram() -> None:
    """PTB's Defaults(parse_mode=…) sends parse_mode even to editMessageReplyMarkup."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup
    from telegram.ext import Defaults, ExtBot

    from sandbox import BotApiServer, Limits, SandboxConfig

    async with BotApiServer(SandboxConfig(limits=Limits.off())) as server:
        user = server.world.add_user("Siti", started=True)
        bot = ExtBot(
            server.token,
            base_url=server.api_url,
            base_file_url=server.file_url,
            defaults=Defaults(parse_mode="HTML"),
        )
        async with bot:
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
            sent = await bot.send_message(user.id, "x", reply_markup=keyboard)
            assert await bot.edit_message_reply_markup(user.id, sent.message_id)
        (call,) = server.calls_to("editMessageReplyMarkup")
        assert call.status == 200 and "parse_mode" not in call.params
