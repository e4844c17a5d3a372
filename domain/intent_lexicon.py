"""The intents a resident may mean and the lexicon that recognises them, as data.

The lexicon is domain/lexicon/intents.toml, read as package data so an installed wheel finds
it; everything there is casefolded and without punctuation, as the normaliser of
``domain.intents`` produces it. ``parse_lexicon`` checks it whole and says every problem.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources


class Intent(StrEnum):
    KAPAN = "kapan"  # when is the vote / polling date
    JAM = "jam"  # TPS hours, opening/closing time
    TPS = "tps"  # where is my TPS / check DPT / am I registered
    SYARAT = "syarat"  # what to bring (KTP-el, C Pemberitahuan)
    UNDANGAN = "undangan"  # lost or missing invitation / C Pemberitahuan / C6
    DPK = "dpk"  # not on the DPT but has a KTP-el (DPK, 12.00-13.00)
    PINDAH = "pindah"  # moved / vote elsewhere / DPTb / rawat inap / kos mahasiswa
    MASA_TENANG = "masa_tenang"  # what masa tenang forbids
    POLITIK_UANG = "politik_uang"  # money politics, serangan fajar, where to report it
    LAPOR = "lapor"  # report a violation in general (Bawaslu), not money specifically
    HASIL = "hasil"  # official results / quick count / who won
    CARA = "cara"  # how to vote at the TPS, valid ballot, ballot colours, ink
    HAK_PILIH = "hak_pilih"  # who may vote: 17 or married on voting day
    TNI_POLRI = "tni_polri"  # active TNI/Polri members do not vote
    PENDAMPING = "pendamping"  # disabled, elderly, sick voters: a pendamping, secrecy
    HP = "hp"  # phone / camera / photo of the ballot in the booth
    ATRIBUT = "atribut"  # campaign clothing and stickers at the TPS
    DIWAKILKAN = "diwakilkan"  # voting for someone else / with someone else's invitation
    HITUNG = "hitung"  # the count at the TPS is public
    ANTRE = "antre"  # queueing at 13.00, the "saran waktu" on the invitation
    GOLPUT = "golput"  # not voting carries no fine
    TERIMA_KASIH = "terima_kasih"  # thanks -> "sama-sama"
    BANTUAN = "bantuan"  # greetings, help, menu
    NETRAL = "netral"  # partisan ("who should I vote for"): the bot declines, stays neutral
    UNKNOWN = "unknown"  # anything else -> fallback menu


LEXICON_RESOURCE = "lexicon/intents.toml"


class LexiconError(ValueError):
    """The lexicon file is not usable; the message lists every problem."""


@dataclass(frozen=True)
class Lexicon:
    max_chars: int
    max_tokens: int
    threshold: float
    bantuan_yields_to: float
    yielding: tuple[Intent, ...]  # greetings/thanks: dropped when a real question is there too
    suffixes: tuple[str, ...]
    priority: tuple[Intent, ...]
    variants: dict[str, str]  # canonical token -> space-separated spellings
    function_words: frozenset[str]
    offtopic: frozenset[str]
    fillers: frozenset[str]
    context: frozenset[str]
    merges: dict[tuple[str, ...], str]
    cues: dict[Intent, tuple[tuple[str, float], ...]]


def read_lexicon_text() -> str:
    return resources.files("domain").joinpath(LEXICON_RESOURCE).read_text(encoding="utf-8")


def parse_lexicon(text: str) -> Lexicon:
    """The lexicon from its TOML text; raises LexiconError listing every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"not valid TOML: {exc}") from None
    problems: list[str] = []
    intents = {i.value: i for i in Intent}
    settings = raw.get("settings", {})
    words = raw.get("words", {})

    def word_set(name: str) -> frozenset[str]:
        value = words.get(name)
        if not isinstance(value, str):
            problems.append(f"[words] {name} must be a string of words")
            return frozenset()
        items = value.split()
        if len(items) != len(set(items)):
            problems.append(f"[words] {name} lists a word twice")
        return frozenset(items)

    variants: dict[str, str] = {}
    for canon, spellings in raw.get("variants", {}).items():
        if not isinstance(spellings, str):
            problems.append(f"[variants] {canon} must be a string")
            continue
        variants[canon] = " ".join(spellings.split())
    merges: dict[tuple[str, ...], str] = {}
    for words_text, merged in raw.get("merges", {}).items():
        key = tuple(words_text.split())
        if len(key) < 2 or not isinstance(merged, str) or not merged:
            problems.append(f"[merges] {words_text!r} needs two or more words and a token")
            continue
        merges[key] = merged
    cues: dict[Intent, tuple[tuple[str, float], ...]] = {}
    for name, table in raw.get("cues", {}).items():
        intent = intents.get(name)
        if intent is None:  # [cues.unknown] is everyday evidence, see classify()
            problems.append(f"[cues.{name}] is not an intent")
            continue
        entries: list[tuple[str, float]] = []
        for cue, weight in table.items():
            text = cue.lstrip("~")
            parts = [p.split() for p in text.split("+")]
            if not text.strip() or any(not p for p in parts):
                problems.append(f"[cues.{name}] {cue!r} is empty or has an empty part")
                continue
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                problems.append(f"[cues.{name}] {cue!r} weight must be a number")
                continue
            entries.append((cue, float(weight)))
        if not entries:
            problems.append(f"[cues.{name}] has no cues")
        cues[intent] = tuple(entries)
    priority: list[Intent] = []
    for name in settings.get("priority", []):
        if name not in intents:
            problems.append(f"[settings] priority names an unknown intent {name!r}")
        else:
            priority.append(intents[name])
    yielding: list[Intent] = []
    for name in settings.get("yielding", []):
        if name not in intents:
            problems.append(f"[settings] yielding names an unknown intent {name!r}")
        else:
            yielding.append(intents[name])
    suffixes = settings.get("suffixes", [])
    if not isinstance(suffixes, list) or not all(isinstance(x, str) and x for x in suffixes):
        problems.append("[settings] suffixes must be a list of endings")
        suffixes = []
    lexicon = Lexicon(
        max_chars=int(settings.get("max_chars", 500)),
        max_tokens=int(settings.get("max_tokens", 120)),
        threshold=float(settings.get("threshold", 0.35)),
        bantuan_yields_to=float(settings.get("bantuan_yields_to", 1.5)),
        yielding=tuple(yielding),
        suffixes=tuple(sorted(suffixes, key=len, reverse=True)),
        priority=tuple(priority),
        variants=variants,
        function_words=word_set("function"),
        offtopic=word_set("offtopic"),
        fillers=word_set("fillers"),
        context=word_set("context"),
        merges=merges,
        cues=cues,
    )
    problems += lexicon_problems(lexicon)
    if problems:
        raise LexiconError("\n".join(problems))
    return lexicon


def lexicon_problems(lex: Lexicon) -> list[str]:
    """Consistency of a parsed lexicon (also run by the tests on the shipped file)."""
    problems: list[str] = []
    canon = set(lex.variants)
    seen: dict[str, str] = {}
    for c, spellings in lex.variants.items():
        for v in spellings.split():
            if v in seen:
                problems.append(f"spelling {v!r} is listed under {seen[v]!r} and {c!r}")
            seen[v] = c
            if v in canon:
                problems.append(f"spelling {v!r} of {c!r} is also a canonical token")
    known = canon | set(seen) | lex.function_words
    for w in sorted(lex.offtopic & known):
        problems.append(f"off-topic word {w!r} is also a known word")
    merged_tokens = set(lex.merges.values())
    for words, merged in lex.merges.items():
        if merged not in canon and merged not in merged_tokens:
            problems.append(f"merge {' '.join(words)!r} -> {merged!r}: not a canonical token")
    reachable = canon | merged_tokens | lex.function_words
    for intent, cues in lex.cues.items():
        texts = [raw.lstrip("~") for raw, _ in cues]
        for dup in sorted({t for t in texts if texts.count(t) > 1}):
            problems.append(f"[cues.{intent.value}] {dup!r} is listed twice")
        for raw, weight in cues:
            if not 0 < weight <= 6:
                problems.append(f"[cues.{intent.value}] {raw!r} weight {weight} not in (0, 6]")
            for part in raw.lstrip("~").split("+"):
                for tok in part.split():
                    if tok not in reachable and not tok.isdigit():
                        problems.append(
                            f"[cues.{intent.value}] {raw!r}: token {tok!r} is never produced"
                        )
    for intent in Intent:
        if intent is not Intent.UNKNOWN and not lex.cues.get(intent):
            problems.append(f"intent {intent.value!r} has no cues")
        if intent not in lex.priority:
            problems.append(f"intent {intent.value!r} is missing from [settings] priority")
    if len(lex.priority) != len(set(lex.priority)):
        problems.append("[settings] priority lists an intent twice")
    return problems


LEXICON = parse_lexicon(read_lexicon_text())
