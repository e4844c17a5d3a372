"""The guard against its own test set (tests/data/neutrality_texts.csv): at least 95% of the
partisan texts blocked and at most 3% of the neutral ones refused, on the whole set and on the
holdout (written before the guard was tuned, never tuned on). ``pytest -s`` prints the figures."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from election.profile import ElectionProfile
from messages.neutrality import Guard, guard_for

CORPUS = Path(__file__).resolve().parents[1] / "data" / "neutrality_texts.csv"
with CORPUS.open(encoding="utf-8", newline="") as _file:
    ROWS = list(csv.DictReader(_file))


@pytest.fixture(scope="module")
def guard() -> Guard:
    from election.profile import load_profile

    return guard_for(load_profile())


def test_the_set_is_large_and_varied() -> None:
    counts = Counter((r["label"], r["split"]) for r in ROWS)
    assert counts["partisan", "train"] + counts["partisan", "holdout"] >= 150
    assert counts["neutral", "train"] + counts["neutral", "holdout"] >= 100
    assert counts["partisan", "holdout"] >= 40 and counts["neutral", "holdout"] >= 30
    assert {r["label"] for r in ROWS} == {"partisan", "neutral"}
    kinds = {r["kind"] for r in ROWS if r["label"] == "partisan"}
    for kind in (
        "spacing", "line_break", "confusable", "numeral", "filler", "call_verb",
        "slogan_number", "slogan_case", "hashtag", "link", "handle", "allusion",
    ):  # fmt: skip
        assert kind in kinds, kind
    neutral_kinds = {r["kind"] for r in ROWS if r["label"] == "neutral"}
    for kind in ("queue_number", "count", "rt_rw_tps", "street_name", "person_name"):
        assert kind in neutral_kinds, kind
    assert "party_abbrev_other" in neutral_kinds and "common_word" in neutral_kinds
    assert len({r["text"] for r in ROWS}) == len(ROWS)


def _rates(guard: Guard, rows: list[dict[str, str]]) -> tuple[float, float, list[str]]:
    partisan = [r for r in rows if r["label"] == "partisan"]
    neutral = [r for r in rows if r["label"] == "neutral"]
    missed = [r for r in partisan if not guard.check(r["text"])]
    refused = [r for r in neutral if guard.check(r["text"])]
    wrong = [f"{r['label']} {r['kind']}: {r['text']!r}" for r in [*missed, *refused]]
    blocked = 1 - len(missed) / len(partisan)
    return blocked, len(refused) / len(neutral), wrong


@pytest.mark.parametrize("split", ["all", "holdout"])
def test_block_and_false_refusal_rates(guard: Guard, split: str) -> None:
    rows = ROWS if split == "all" else [r for r in ROWS if r["split"] == split]
    blocked, refused, wrong = _rates(guard, rows)
    n_p = sum(r["label"] == "partisan" for r in rows)
    n_n = sum(r["label"] == "neutral" for r in rows)
    print(
        f"\nneutrality guard on {split} ({n_p} partisan, {n_n} neutral): "
        f"{blocked:.1%} of partisan texts blocked, {refused:.1%} of neutral texts refused"
    )
    for line in wrong:
        print("  wrong:", line)
    assert blocked >= 0.95, wrong
    assert refused <= 0.03, wrong


def test_every_refusal_names_its_rule_and_words(guard: Guard) -> None:
    for row in ROWS:
        for finding in guard.check(row["text"]):
            assert finding.reason and finding.category.label
            assert finding.match, (row["text"], finding)


def test_profile_decides_the_links(profile: ElectionProfile) -> None:
    guard = guard_for(profile)
    assert guard.check("Cek https://cekdptonline.kpu.go.id dan malangkota.go.id") == []
    (finding,) = guard.check("Baca di https://contoh-berita.com/pilkada")
    assert finding.term == "contoh-berita.com"
    assert "di luar daftar situs yang diizinkan" in finding.reason
    strict = Guard(guard.terms, allowed_domains=("kpu.go.id",))
    assert [f.term for f in strict.check("Lihat malangkota.go.id")] == ["malangkota.go.id"]


def test_hostile_text_never_crashes_the_guard(guard: Guard) -> None:
    """Bounded and seeded: 2,000 texts of random pieces (tags, entities, look-alikes, digits of
    every script, joiners, links, very long words) — the guard answers, never raises."""
    import random

    rng = random.Random(10)
    pieces = [
        "<b>", "</b>", "<a href='", "'>", "</a>", "&amp;", "&#x41;", "&bogus;", "&", "<", ">",
        "\u200b", "\u200d", "\ufeff", "\u00ad", "\u2060", "\u20e3", "\ufe0f", "\u0301",
        "\u041a", "\u03a1", "\u0456", "\u2162", "\u0662", "\u2460", "\u2776", "\uff10", "\u00b2",
        "#", "@", "+", "/", ".", "[.]", "\n", "\r\n", "\u2022", " ", "-", "_", "$",
        "coblos", "nomor", "3", "01", "Khofifah", "PKB", "pajak", "WALI", "abadi", "http://",
        "www.", ".id", ".go.id", "t.me/", "x" * 300, "9" * 40, "🐂", "\U0001f1ee\U0001f1e9",
    ]  # fmt: skip
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        findings = guard.check(text)
        assert all(f.reason for f in findings)
