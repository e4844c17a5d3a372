"""The officials' inbox end to end: an unanswerable question reaches /pertanyaan and the
official's answer reaches the resident; krama and walikan; answers before, during and after
voting hours."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from bot.question_notices import SWEEP_JOB
from db.models import Official, OfficialRole, QuestionStatus, ResidentQuestion
from domain import questions
from domain.inbox_notices import NOTICE_INTERVAL
from domain.intents import Intent, classify
from messages.render import render
from messages.telegram_html import visible_text
from sandbox.world import User
from tests.e2e.harness import Harness


def first_line(h: Harness, key: str, **extra: object) -> str:
    html = render(key, h.services.profile, h.clock.now(), extra or None)
    return visible_text(html).strip().splitlines()[0]


def labels(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [b["text"] for b in message.buttons()]


async def test_a_question_the_bot_cannot_answer_reaches_an_official_and_back(
    kentongan: Harness,
) -> None:
    h = kentongan
    question = "Apakah TPS di balai RW kami ada tenda kalau hujan deras?"
    assert classify(question).intent is Intent.UNKNOWN  # the premise
    admin = h.admin()
    sari = h.world.add_user("Sari")
    reply = await h.say(sari, question)
    assert first_line(h, "jawab.unknown") in (reply.text or "")
    assert "🗓️ Kapan mencoblos?" in labels(reply)  # the menu
    forward = render("pertanyaan.tombol_teruskan", h.services.profile, h.clock.now())
    assert forward in labels(reply)  # and a person

    step = await h.press(sari, reply, forward)
    assert step is not None and "Kec. Klojen" in labels(step)
    step = await h.press(sari, step, "Kec. Klojen")
    assert step is not None and "Oro-oro Dowo" in labels(step)
    done = await h.press(sari, step, "Oro-oro Dowo")
    assert done is not None and first_line(h, "pertanyaan.diteruskan") in (done.text or "")

    notice = await h.server.wait_for_message(admin)  # the official hears of it
    assert visible_text(notice.text or "").startswith("🙋 1 pertanyaan warga")
    inbox = await h.say(admin, "/pertanyaan")
    text = inbox.text or ""
    assert "Oro-oro Dowo" in text and question in text and "baru saja" in text
    async with h.services.sessions() as session:
        row = (await session.scalars(select(ResidentQuestion))).one()
    assert row.status is QuestionStatus.OPEN and row.kelurahan_code is not None
    prompt = await h.press(admin, inbox, f"✍️ Jawab #{row.id}")
    assert prompt is not None and f"#{row.id}" in (prompt.text or "")

    last = h.world.last_bot_message(sari)
    after = last.message_id if last else 0
    sent = await h.say(
        admin, "Ada. KPPS memasang tenda; bila hujan deras, pemungutan tetap berjalan."
    )
    assert first_line(h, "pertanyaan.terkirim", nomor=row.id) in (sent.text or "")
    delivered = await h.server.wait_for_message(sari, after=after)
    body = delivered.text or ""
    assert body.startswith("💬 Jawaban dari Petugas Pemkot Malang")
    assert question in body and "KPPS memasang tenda" in body

    # answered: it leaves the inbox; the official's next text is an ordinary message again
    empty = await h.say(admin, "/pertanyaan")
    assert first_line(h, "pertanyaan.kotak_kosong") in (empty.text or "")


async def _operator(h: Harness, name: str, kecamatan: str) -> User:
    operator = h.world.add_user(name, started=True)
    async with h.services.sessions.begin() as session:
        session.add(
            Official(
                user_id=operator.id,
                name=name,
                role=OfficialRole.OPERATOR,
                kecamatan_code=kecamatan,
                added_at=h.clock.now(),
            )
        )
    return operator


async def _forward_from_oro_oro_dowo(h: Harness, resident: User, question: str) -> None:
    forward = render("pertanyaan.tombol_teruskan", h.services.profile, h.clock.now())
    reply = await h.say(resident, question)
    step = await h.press(resident, reply, forward)
    assert step is not None
    step = await h.press(resident, step, "Kec. Klojen")
    assert step is not None
    done = await h.press(resident, step, "Oro-oro Dowo")
    assert done is not None and first_line(h, "pertanyaan.diteruskan") in (done.text or "")


def _notices(h: Harness, official: User) -> list[str]:
    return [
        visible_text(m.text or "").splitlines()[0]
        for m in h.world.bot_messages(official)
        if "pertanyaan warga" in (m.text or "")
    ]


async def test_officials_in_scope_hear_of_questions_at_most_once_per_interval(
    kentongan: Harness,
) -> None:
    h = kentongan
    admin = h.admin()  # the whole city
    klojen = await _operator(h, "Operator Klojen", "35.73.02")  # Oro-oro Dowo's kecamatan
    lowokwaru = await _operator(h, "Operator Lowokwaru", "35.73.05")
    questions_asked = [
        "Apakah TPS di balai RW kami ada tenda kalau hujan deras?",
        "Apakah di balai RW kami ada parkir motor untuk warga?",
        "Siapa yang menyiapkan konsumsi untuk petugas di balai warga?",
    ]
    assert {classify(q).intent for q in questions_asked} == {Intent.UNKNOWN}  # the premise
    first, *more = (h.world.add_user(f"Warga {n}") for n in range(3))
    await _forward_from_oro_oro_dowo(h, first, questions_asked[0])
    told_once = "🙋 1 pertanyaan warga di wilayah Anda menunggu jawaban petugas."
    for official in (admin, klojen):
        await h.server.wait_until(lambda o=official: _notices(h, o) == [told_once])

    # Two more within the interval: no message now; they wait for the interval's end.
    for resident, question in zip(more, questions_asked[1:], strict=True):
        await _forward_from_oro_oro_dowo(h, resident, question)
    jobs = h.app.job_queue
    assert jobs is not None
    (sweep,) = jobs.get_jobs_by_name(SWEEP_JOB)
    await sweep.run(h.app)  # too early on the bot's clock: nothing goes out
    assert _notices(h, admin) == _notices(h, klojen) == [told_once]
    h.clock.advance(NOTICE_INTERVAL)
    await sweep.run(h.app)
    told_twice = "🙋 2 pertanyaan warga di wilayah Anda menunggu jawaban petugas."
    for official in (admin, klojen):
        await h.server.wait_until(lambda o=official: _notices(h, o) == [told_once, told_twice])
    assert _notices(h, lowokwaru) == []  # not their kecamatan
    assert not jobs.get_jobs_by_name(SWEEP_JOB)  # nobody waits: the sweep stopped

    # An interval after that, a new question is told at once again: only the new one counts.
    h.clock.advance(NOTICE_INTERVAL)
    await _forward_from_oro_oro_dowo(h, h.world.add_user("Warga 4"), "Boleh bawa payung?")
    await h.server.wait_until(lambda: _notices(h, admin) == [told_once, told_twice, told_once])


async def test_residents_forward_only_their_own_drafts_and_within_a_limit(
    kentongan: Harness,
) -> None:
    h = kentongan
    rudi = h.world.add_user("Rudi")
    other = h.world.add_user("Wati")
    skip = render("pertanyaan.tombol_lewati", h.services.profile, h.clock.now())
    forward = render("pertanyaan.tombol_teruskan", h.services.profile, h.clock.now())
    # Rudi already forwarded as many as the limit allows today (through the domain, quickly)
    now = h.clock.now()
    async with h.services.sessions.begin() as session:
        for n in range(questions.FORWARDS_PER_WINDOW):
            draft = await questions.keep_draft(session, rudi.id, rudi.id, f"tenda {n}?", now)
            assert isinstance(draft, int)
            assert isinstance(
                await questions.forward(session, draft, rudi.id, now), questions.Forwarded
            )
    reply = await h.say(rudi, "Apakah ada tenda di balai RW kalau hujan deras?")
    step = await h.press(rudi, reply, forward)
    assert step is not None
    done = await h.press(rudi, step, skip)
    assert done is not None
    assert first_line(h, "pertanyaan.batas", jumlah=3) in (done.text or "")
    # Wati cannot forward Rudi's draft by forging its button data
    async with h.services.sessions() as session:
        drafts = await session.scalars(
            select(ResidentQuestion).where(ResidentQuestion.status == QuestionStatus.DRAFT)
        )
        rudi_draft = drafts.one()
    reply = await h.say(other, "Apakah ada tenda di balai RW kalau hujan deras sekali?")
    await h.server.wait_for_callback_answer(h.forge_press(other, reply, f"q:l:{rudi_draft.id}:-"))
    refused = first_line(h, "pertanyaan.kedaluwarsa")
    await h.server.wait_until(lambda: refused in (reply.text or ""))
    async with h.services.sessions() as session:
        assert (await session.get(ResidentQuestion, rudi_draft.id)).status is QuestionStatus.DRAFT


async def test_krama_and_walikan_questions_get_their_answers(kentongan: Harness) -> None:
    h = kentongan
    for text, key in (
        ("TPS kula wonten pundi?", "jawab.tps_tanpa_registri"),
        ("nami kula mboten wonten ing DPT", "jawab.dpk"),
        ("ayas kadit oleh undangan sam", "jawab.undangan"),
        ("Anggota TNI aktif ikut nyoblos gak?", "jawab.tni_polri"),
        ("matur nuwun sanget", "jawab.terima_kasih"),
    ):
        resident = h.world.add_user(f"Warga {key}")
        reply = await h.say(resident, text)
        assert first_line(h, key) in (reply.text or ""), text


async def test_answers_before_during_and_after_voting_hours(kentongan: Harness) -> None:
    h = kentongan
    profile = h.services.profile
    resident = h.world.add_user("Yuli")
    question = "kalau saya masih antri jam 13.00 tetap dilayani?"
    cases = (
        (profile.local(profile.election_day, time(6, 0)), "jawab.antre", "saran waktu"),
        (profile.local(profile.election_day, time(10, 0)), "jawab.antre", "saran waktu"),
        (profile.local(profile.election_day, time(13, 30)), "jawab.antre.selesai", "berakhir"),
    )
    for now, key, needle in cases:
        h.clock.set(now)
        reply = await h.say(resident, question)
        text = reply.text or ""
        assert first_line(h, key) in text and needle in text, (now, text)
    h.clock.set(profile.local(profile.election_day, time(15, 0)))
    reply = await h.say(resident, "calon mana yang paling pantes?")
    text = reply.text or ""
    assert "07.00–13.00" not in text and "Hasil resmi" in text


async def _forward_without_a_place(h: Harness, resident: User, question: str) -> None:
    forward = render("pertanyaan.tombol_teruskan", h.services.profile, h.clock.now())
    skip = render("pertanyaan.tombol_lewati", h.services.profile, h.clock.now())
    reply = await h.say(resident, question)
    step = await h.press(resident, reply, forward)
    assert step is not None
    done = await h.press(resident, step, skip)
    assert done is not None and first_line(h, "pertanyaan.diteruskan") in (done.text or "")


async def test_each_official_sees_and_answers_only_the_questions_of_their_scope(
    kentongan: Harness,
) -> None:
    h = kentongan
    admin = h.admin()  # the whole city
    klojen = await _operator(h, "Operator Klojen", "35.73.02")
    lowokwaru = await _operator(h, "Operator Lowokwaru", "35.73.05")
    dinoyo = await _operator(h, "Lurah Dinoyo", "35.73.05")
    async with h.services.sessions.begin() as session:
        row = await session.get(Official, dinoyo.id)
        assert row is not None
        row.kelurahan_code = "35.73.05.1004"
    (group,) = await h.registered_groups(1, kelurahan="35.73.05.1005")  # Sumbersari
    leader = next(m.user for m in group.members.values() if m.is_admin)
    leader.started = True
    from_klojen = "Apakah TPS di balai RW kami ada tenda kalau hujan deras?"
    from_leader = "Apakah di balai RW kami ada parkir motor untuk warga?"
    nowhere = "Siapa yang menyiapkan konsumsi untuk petugas di balai warga?"
    await _forward_from_oro_oro_dowo(h, h.world.add_user("Warga Klojen"), from_klojen)
    await _forward_without_a_place(h, leader, from_leader)  # placed by the group they registered
    await _forward_without_a_place(h, h.world.add_user("Warga entah"), nowhere)

    async def inbox_of(official: User) -> str:
        return visible_text((await h.say(official, "/pertanyaan")).text or "")

    everything = await inbox_of(admin)
    assert from_klojen in everything and from_leader in everything and nowhere in everything
    seen = await inbox_of(klojen)
    assert from_klojen in seen and from_leader not in seen and nowhere not in seen
    seen = await inbox_of(lowokwaru)
    assert from_leader in seen and "Sumbersari" in seen
    assert from_klojen not in seen and nowhere not in seen
    assert first_line(h, "pertanyaan.kotak_kosong") in await inbox_of(dinoyo)  # not Sumbersari

    # Notices follow the same scope: the lurah of Dinoyo hears of none of them.
    told = "🙋 1 pertanyaan warga di wilayah Anda menunggu jawaban petugas."
    await h.server.wait_until(lambda: _notices(h, lowokwaru) == [told])
    await h.server.wait_until(lambda: _notices(h, klojen) == [told])
    assert not [n for n in _notices(h, dinoyo) if n.startswith("🙋")]

    # A forged "Jawab" for a question outside the official's scope opens nothing.
    async with h.services.sessions() as session:
        question = (
            await session.scalars(
                select(ResidentQuestion).where(ResidentQuestion.text == from_klojen)
            )
        ).one()
    last = await h.say(lowokwaru, "/pertanyaan")
    query = h.forge_press(lowokwaru, last, f"q:a:{question.id}")
    await h.server.wait_for_callback_answer(query)
    refused = first_line(h, "pertanyaan.sudah_dijawab", nomor=question.id)
    await h.server.wait_until(
        lambda: any(refused in (m.text or "") for m in h.world.bot_messages(lowokwaru))
    )
    async with h.services.sessions() as session:
        row_now = await session.get(ResidentQuestion, question.id)
        assert row_now is not None and row_now.status is QuestionStatus.OPEN
