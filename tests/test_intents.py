"""The resident-question classifier: accuracy on a labelled set, normalisation, robustness."""

from __future__ import annotations

import ast
import csv
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from domain import intents
from domain.intents import MAX_CHARS, Intent, Match, classify, normalize, tokens

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "resident_questions.csv"


def _load() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


ROWS = _load()


# --------------------------------------------------------------------------------------------
# The labelled set
# --------------------------------------------------------------------------------------------


def test_dataset_shape() -> None:
    assert ROWS, "no rows"
    assert list(ROWS[0]) == ["text", "intent", "split"]
    assert len(ROWS) >= 200
    valid = {i.value for i in Intent}
    for row in ROWS:
        assert row["intent"] in valid, row
        assert row["split"] in {"tune", "holdout"}, row
    by_split = Counter(r["split"] for r in ROWS)
    assert by_split["holdout"] >= 60
    by_intent = Counter(r["intent"] for r in ROWS)
    assert by_intent[Intent.UNKNOWN.value] >= 20
    # every intent is exercised, in both splits
    for intent in Intent:
        assert by_intent[intent.value] >= 5, intent
        assert any(r["intent"] == intent.value and r["split"] == "holdout" for r in ROWS), intent
    texts = [r["text"] for r in ROWS]
    assert len(texts) == len(set(texts)), "duplicate questions"


def _report(rows: list[dict[str, str]]) -> tuple[float, str]:
    """Accuracy and a readable confusion summary (expected -> got, with the texts)."""
    wrong: list[tuple[str, str, float, str, tuple[str, ...]]] = []
    for row in rows:
        m = classify(row["text"])
        if m.intent.value != row["intent"]:
            wrong.append((row["intent"], m.intent.value, m.score, row["text"], m.matched))
    accuracy = 1 - len(wrong) / len(rows)
    pairs = Counter((exp, got) for exp, got, *_ in wrong)
    lines = [f"accuracy {accuracy:.3f} ({len(rows) - len(wrong)}/{len(rows)})", "confusion:"]
    lines += [f"  {exp:>12} -> {got:<12} x{n}" for (exp, got), n in pairs.most_common()]
    lines.append("misclassified:")
    lines += [
        f"  {exp:>12} -> {got:<12} {score:.2f} {text[:80]!r} {matched}"
        for exp, got, score, text, matched in wrong
    ]
    return accuracy, "\n".join(lines)


def test_accuracy_over_whole_set() -> None:
    accuracy, summary = _report(ROWS)
    if accuracy < 0.95:
        pytest.fail(summary)


def test_accuracy_over_holdout() -> None:
    accuracy, summary = _report([r for r in ROWS if r["split"] == "holdout"])
    if accuracy < 0.90:
        pytest.fail(summary)


def test_unknown_rows_never_get_a_factual_intent_with_high_confidence() -> None:
    # wrong facts are worse than the fallback menu: an off-topic question must not be answered
    for row in ROWS:
        if row["intent"] == Intent.UNKNOWN.value:
            m = classify(row["text"])
            assert m.intent in {Intent.UNKNOWN, Intent.BANTUAN, Intent.NETRAL}, (row, m)


# --------------------------------------------------------------------------------------------
# Conflict rules (documented in the module docstring)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("undangan hilang, jam berapa datang?", Intent.UNDANGAN),  # most specific wins
        ("iso nyoblos gak lek gak nggowo undangan", Intent.UNDANGAN),  # not SYARAT
        ("gak terdaftar", Intent.DPK),
        ("aku gak terdaftar, jam berapa iso nyoblos?", Intent.DPK),  # not JAM
        ("pas cek dpt kok jenengku gak onok", Intent.DPK),  # not TPS
        ("sudah terdaftar belum?", Intent.TPS),  # negation after the word is a question
        ("pindah", Intent.PINDAH),
        ("aku wes pindah omah, nyoblos e nang endi", Intent.PINDAH),  # not TPS
        ("dikasih duit", Intent.POLITIK_UANG),
        ("lapor ada yang bagi uang", Intent.POLITIK_UANG),  # money beats lapor
        ("lurah melu kampanye, lapor nang endi?", Intent.LAPOR),  # "nang endi" is not TPS here
        ("kapan hasil resmi diumumkan?", Intent.HASIL),  # not KAPAN
        ("masa tenang mulai kapan?", Intent.MASA_TENANG),  # not KAPAN
        ("batas urus dptb kapan", Intent.PINDAH),
        ("halo sam, undanganku durung teko", Intent.UNDANGAN),  # greeting yields
        ("sopo sing menang?", Intent.HASIL),
        ("pilih siapa yang bagus?", Intent.NETRAL),
        ("coblos nomor berapa yang bagus?", Intent.NETRAL),
        ("kapan gajian", Intent.UNKNOWN),  # generic cue + unknown word: not on topic
        ("jam berapa pasar besar buka", Intent.UNKNOWN),
        ("undangan nikahan tetangga kapan", Intent.UNKNOWN),
        ("jam piro tutup", Intent.JAM),  # generic cues, but every word is understood
        ("kapan nyoblos", Intent.KAPAN),
        ("Kapan pemungutan suara ulang?", Intent.KAPAN),  # "ulang" is not fuzzy "uang"
    ],
)
def test_conflicts(text: str, expected: Intent) -> None:
    m = classify(text)
    assert m.intent is expected, (m, intents.explain(text))


def test_ties_between_weak_cues_are_unknown() -> None:
    # "buka" (JAM) vs "kapan" (KAPAN): equally weak, so the bot does not guess
    assert classify("tps buka kapan").intent is Intent.UNKNOWN


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("ＫＡＰＡＮ ｎｙｏｂｌｏｓ？", "kapan nyoblos"),  # full-width (NFKC)
        ("KAPÁN nyoblós", "kapan nyoblos"),  # accents
        ("kapaaaan nyoblooos???", "kapan nyoblos"),  # repeated letters
        ("HALOOOO 👋👋", "halo"),  # emoji
        ("TPS-ku nang endi, Sam?", "tps ku nang endi sam"),
        ("bagi2 duit", "bagi bagi duit"),
        ("c6 ku ilang", "c 6 ku ilang"),
        ("50rb", "50 rb"),
        ("/start@kentongan_bot", "start"),
        ("ngekek'i", "ngekeki"),
        ("maaf", "maaf"),  # a double letter is a real spelling, kept
        ("\u200b\u00a0kapan\u3000\u2028nyoblos\t\n", "kapan nyoblos"),  # odd spaces
    ],
)
def test_normalize(raw: str, normal: str) -> None:
    assert normalize(raw) == normal


def test_canonical_tokens() -> None:
    assert tokens("Sam, coblosan kapan se?") == ["sam", "coblos", "kapan"]
    assert tokens("undanganku ilang") == ["undangan", "hilang"]  # suffix -ku
    assert tokens("ayas kadit oleh ojir") == ["ayas", "gak", "oleh", "uang"]  # walikan
    assert tokens("yok opo carane") == ["gimana", "cara"]  # merge + suffix
    assert tokens("masa tenang") == ["masatenang"]
    assert tokens("kapna pilkda") == ["kapan", "pilkada"]  # typos (OSA distance 1)


def test_fuzzy_is_careful_with_short_words() -> None:
    assert tokens("ulang") == ["ulang"]  # not "uang"
    assert tokens("sampah") == ["sampah"]  # not "sampai"
    assert tokens("jam") == ["jam"]
    assert tokens("jma") == ["jma"]  # three letters: never fuzzy


@pytest.mark.parametrize("text", ["", "   ", "...", "🗳️🗳️🗳️", "😂", "🙏🙏🙏", "?!", "\u200b"])
def test_nothing_to_read_is_unknown(text: str) -> None:
    assert classify(text) == Match(Intent.UNKNOWN, 0.0, ())


def test_not_a_string_is_unknown() -> None:
    assert classify(None).intent is Intent.UNKNOWN  # type: ignore[arg-type]
    assert classify(b"kapan").intent is Intent.UNKNOWN  # type: ignore[arg-type]


def test_repeated_letters_and_shouting() -> None:
    assert classify("KAPAAAAN NYOBLOOOOS???").intent is Intent.KAPAN
    assert classify("undangaaan ilaaaang").intent is Intent.UNDANGAN


def test_only_the_start_of_a_very_long_message_is_read() -> None:
    long_tail = " bla" * 50_000
    assert classify("undangan hilang" + long_tail).intent is Intent.UNDANGAN
    assert len(normalize("x " * 100_000)) <= MAX_CHARS
    # a question buried after the cap is not seen (and costs nothing)
    assert classify("bla " * 200 + "undangan hilang").intent is Intent.UNKNOWN


def test_very_long_input_is_fast() -> None:
    rnd = random.Random(7)
    huge = "".join(chr(rnd.randrange(0x20, 0x3000)) for _ in range(200_000))
    start = time.perf_counter()
    classify(huge)
    classify("kapan nyoblos " * 20_000)
    assert time.perf_counter() - start < 0.25


def test_typical_question_is_fast() -> None:
    texts = [r["text"] for r in ROWS]
    for t in texts:  # warm the token cache, as a running bot would have
        classify(t)
    timings = []
    for t in texts:
        start = time.perf_counter()
        classify(t)
        timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.001


def test_never_raises_on_random_unicode() -> None:
    rnd = random.Random(20241127)
    pools = [
        (0x0, 0x80),  # ASCII incl. control characters
        (0x80, 0x800),  # Latin, combining marks, Greek, Cyrillic, Arabic ...
        (0xD800, 0xE000),  # lone surrogates
        (0xFE00, 0xFFFF),  # variation selectors, full-width, specials
        (0x1F000, 0x1FAFF),  # emoji
        (0x0, 0x110000),  # anything
    ]
    alphabet = [*"kapn nyoblstpdu ", "undangan", " jam ", "2", "rb", "'", "-", "@"]
    for i in range(3000):
        lo, hi = pools[i % len(pools)]
        length = rnd.randrange(0, 80)
        chars = [
            chr(rnd.randrange(lo, hi)) if rnd.random() < 0.6 else rnd.choice(alphabet)
            for _ in range(length)
        ]
        m = classify("".join(chars))
        assert isinstance(m.intent, Intent)
        assert 0.0 <= m.score <= 1.0
        assert all(isinstance(c, str) for c in m.matched)


# --------------------------------------------------------------------------------------------
# The API and the lexicon itself
# --------------------------------------------------------------------------------------------


def test_match_is_frozen_and_informative() -> None:
    m = classify("undangan hilang, jam berapa datang?")
    assert m.intent is Intent.UNDANGAN
    assert 0.0 < m.score <= 1.0
    assert "undangan" in m.matched
    with pytest.raises(FrozenInstanceError):
        m.score = 1.0  # type: ignore[misc]


def test_intent_values() -> None:
    assert Intent("kapan") is Intent.KAPAN
    assert str(Intent.POLITIK_UANG) == "politik_uang"
    assert {i.value for i in Intent} >= {
        "kapan", "jam", "tps", "syarat", "undangan", "dpk", "pindah", "masa_tenang",
        "politik_uang", "lapor", "hasil", "cara", "bantuan", "unknown",
    }  # fmt: skip


def test_every_intent_has_cues_and_a_priority() -> None:
    for intent in Intent:
        if intent is Intent.UNKNOWN:
            continue
        assert intents.CUES.get(intent), intent
        assert intent in intents.PRIORITY, intent


def test_lexicon_is_consistent() -> None:
    canon = set(intents.VARIANTS)
    variants = [v for vs in intents.VARIANTS.values() for v in vs.split()]
    assert len(variants) == len(set(variants)), "a spelling is listed under two meanings"
    assert not (set(variants) & canon), "a spelling is also a canonical token"
    known = canon | set(variants) | intents.FUNCTION_WORDS
    assert not (intents.OFFTOPIC & known), "an off-topic word is also a known word"
    reachable = canon | set(intents.MERGES.values()) | intents.FUNCTION_WORDS
    for intent, cues in intents.CUES.items():
        for raw, weight in cues:
            assert 0 < weight <= 6, (intent, raw)
            for part in raw.lstrip("~").split("+"):
                for tok in part.split():
                    assert tok in reachable or tok.isdigit(), (intent, raw, tok)
    for words, merged in intents.MERGES.items():
        assert len(words) >= 2, words
        assert merged in canon or merged in set(intents.MERGES.values())


def test_module_never_imports_telegram() -> None:
    source = Path(intents.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    allowed = {"__future__", "collections", "dataclasses", "enum", "functools", "re"}
    assert imported <= allowed | {"unicodedata", "rapidfuzz"}, imported
    code = (
        "import sys, domain.intents as m; m.classify('kapan nyoblos'); "
        "print(sorted(k for k in sys.modules if k.split('.')[0] in {'telegram', 'aiohttp'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
