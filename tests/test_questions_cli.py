"""`python -m bot questions list|label|export`: answered questions join the labelled set."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.storage import open_storage
from domain import questions

NOW = datetime(2024, 11, 25, 3, 0, tzinfo=UTC)
OFFICIAL = 4242
TENDA = "Apakah TPS di balai RW kami ada tenda kalau hujan?"
KURSI = "Ada kursi roda di TPS untuk ibu saya?"
PARKIR = "Di balai RW ada parkir motor?"


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ADMIN_IDS", str(OFFICIAL))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


def _seed(url: str) -> dict[str, int]:
    """TENDA and KURSI answered, PARKIR forwarded and still open; their ids."""

    async def seed() -> dict[str, int]:
        engine, sessions = await open_storage(url, frozenset({OFFICIAL}), NOW)
        ids = {}
        async with sessions.begin() as session:
            for n, text in enumerate((TENDA, KURSI, PARKIR)):
                draft = await questions.keep_draft(session, 700 + n, 700 + n, text, NOW)
                assert isinstance(draft, int)
                assert isinstance(
                    await questions.forward(session, draft, 700 + n, NOW), questions.Forwarded
                )
                if text != PARKIR:
                    await questions.answer(session, draft, OFFICIAL, "Ada.", NOW, scope=None)
                ids[text] = draft
        await engine.dispose()
        return ids

    return asyncio.run(seed())


def _labelled_set(path: Path, *texts: str) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["text", "intent", "split", "batch"])
        for text in texts:
            writer.writerow([text, "pendamping", "holdout", "v2"])
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_list_shows_the_answered_questions(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _seed(db_url)
    assert main(["questions", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [  # answered only, unlabelled, by id
        f"{ids[TENDA]}\t-\t{TENDA}",
        f"{ids[KURSI]}\t-\t{KURSI}",
    ]


def test_a_question_is_labelled_once_answered(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _seed(db_url)
    assert main(["questions", "label", str(ids[PARKIR]), "unknown"]) == 1  # still open
    assert f"#{ids[PARKIR]} belum dijawab atau tidak ada" in capsys.readouterr().err
    assert main(["questions", "label", "999", "unknown"]) == 1
    capsys.readouterr()
    assert main(["questions", "label", str(ids[KURSI]), "pendamping"]) == 0
    assert capsys.readouterr().out.strip() == f"#{ids[KURSI]}: pendamping"
    assert main(["questions", "list"]) == 0
    assert f"{ids[KURSI]}\tpendamping\t{KURSI}" in capsys.readouterr().out.splitlines()
    with pytest.raises(SystemExit) as exit_:  # an intent the bot does not know
        main(["questions", "label", str(ids[KURSI]), "cuaca"])
    assert exit_.value.code == 2


def test_export_adds_each_labelled_question_once_and_skips_known_texts(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _seed(db_url)
    labelled = _labelled_set(tmp_path / "set.csv", TENDA)  # TENDA is in the set already
    for text, intent in ((TENDA, "unknown"), (KURSI, "pendamping")):
        assert main(["questions", "label", str(ids[text]), intent]) == 0
    capsys.readouterr()
    assert main(["questions", "export", "--csv", str(labelled)]) == 0
    assert capsys.readouterr().out.strip() == f"1 pertanyaan ditambahkan ke {labelled}"
    assert _rows(labelled) == [
        {"text": TENDA, "intent": "pendamping", "split": "holdout", "batch": "v2"},
        {"text": KURSI, "intent": "pendamping", "split": "tune", "batch": "inbox"},
    ]
    assert main(["questions", "export", "--csv", str(labelled)]) == 0  # nothing new
    assert capsys.readouterr().out.startswith("0 pertanyaan")
    assert len(_rows(labelled)) == 2


def test_export_without_a_path_writes_into_the_data_directory(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _seed(db_url)
    data_dir = tmp_path / "var" / "kentongan"  # not there yet, as on a fresh install
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    assert main(["questions", "label", str(ids[KURSI]), "pendamping"]) == 0
    capsys.readouterr()
    assert main(["questions", "export"]) == 0
    written = data_dir / "resident_questions.csv"
    assert capsys.readouterr().out.strip() == f"1 pertanyaan ditambahkan ke {written.resolve()}"
    assert _rows(written) == [
        {"text": KURSI, "intent": "pendamping", "split": "tune", "batch": "inbox"}
    ]
