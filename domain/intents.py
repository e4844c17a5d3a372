"""What a resident is asking the bot in a private chat, in their own words.

Pure Python, no Telegram, no network, no model: a hand-written lexicon that understands formal
Indonesian, chat Indonesian, Javanese Timuran/Malangan and Malang *walikan* well enough to route a
question to the right canned answer. When unsure it says UNKNOWN, and the caller shows the
fallback menu instead of guessing a wrong fact.

Pipeline (see :func:`classify`):

1. **normalise** - first ``MAX_CHARS`` characters, NFKC, casefold, strip accents, drop emoji and
   punctuation, ``bagi2`` -> ``bagi bagi``, split letters from digits (``c6`` -> ``c 6``,
   ``50rb`` -> ``50 rb``), collapse letters repeated three or more times (``kapaaan`` -> ``kapan``).
2. **canonicalise** every token through :data:`VARIANTS` (``nyoblos``/``coblosan``/``mencoblos``
   -> ``coblos``, ``piro``/``orip``/``brp`` -> ``berapa`` ...). Unknown tokens try a suffix strip
   (``undanganku``, ``coblosane``, ``hasile``) and then a fuzzy match with rapidfuzz (OSA edit
   distance, so ``kapna`` -> ``kapan``; same first letter; words of 5+ letters within one edit,
   10+ within two; 4-letter words only by swapping two letters; shorter words never).
3. **merge** multi-word terms into one token (:data:`MERGES`: ``masa tenang``, ``serangan fajar``,
   ``yok opo`` -> ``gimana``) after dropping filler particles (:data:`FILLERS`: ``e``, ``ta``,
   ``se`` ...).
4. **score** each intent by summing the weights of its cues in :data:`CUES` (each cue counts once).
   A cue is ``"a"`` (a token), ``"a b"`` (adjacent tokens) or ``"a+b"`` (all anywhere in the
   message). Specific cues weigh more than generic ones, which is how conflicts are resolved:
   ``undangan`` beats ``jam berapa``, ``gak terdaftar`` beats ``cek dpt``, money beats ``lapor``.
5. **gate** - a cue marked ``~`` is generic (``kapan``, ``jam``, ``lapor``, ``ktp``): it only counts
   as on-topic when the message also has an election word (:data:`CONTEXT`) or a specific cue, or
   when every word of the message is understood. So "kapan gajian" and "jam berapa pasar buka" are
   UNKNOWN while "jam piro tutup" and "kapan nyoblos" are not. Everyday :data:`OFFTOPIC` words
   ("undangan nikahan", "rapat") without an election word demote even specific cues.
6. **decide** - confidence from the winning score and its margin over the runner-up; below
   :data:`THRESHOLD` -> UNKNOWN. Exact ties go to the more specific intent (:data:`PRIORITY`).

Partisan questions ("pilih siapa yang bagus?", "coblos nomor 2 aja ya?") get their own intent,
:attr:`Intent.NETRAL`, so the bot can say it is neutral instead of showing the generic menu; a
caller that does not handle NETRAL may treat it exactly like UNKNOWN (never answer it).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from domain.intent_lexicon import LEXICON, Intent

__all__ = [
    "MAX_CHARS",
    "THRESHOLD",
    "Intent",
    "Match",
    "classify",
    "explain",
    "normalize",
    "tokens",
]


# Intent is defined with the lexicon (domain.intent_lexicon) and part of this module's API.


@dataclass(frozen=True)
class Match:
    intent: Intent
    score: float  # 0..1 confidence (for UNKNOWN: of the best guess it rejected, 0 if none)
    matched: tuple[str, ...]  # the cue words that decided it, for debugging


# --------------------------------------------------------------------------------------------
# The lexicon's settings and words (domain.intent_lexicon reads and checks them)
# --------------------------------------------------------------------------------------------

MAX_CHARS = LEXICON.max_chars
MAX_TOKENS = LEXICON.max_tokens
THRESHOLD = LEXICON.threshold
BANTUAN_YIELDS_TO = LEXICON.bantuan_yields_to
YIELDING = LEXICON.yielding
PRIORITY = LEXICON.priority
VARIANTS = LEXICON.variants
FUNCTION_WORDS = LEXICON.function_words
OFFTOPIC = LEXICON.offtopic
FILLERS = LEXICON.fillers
CONTEXT = LEXICON.context
MERGES = LEXICON.merges
CUES = LEXICON.cues

# --------------------------------------------------------------------------------------------
# Compiled lexicon
# --------------------------------------------------------------------------------------------

_SUFFIXES = LEXICON.suffixes


@dataclass(frozen=True)
class _Cue:
    text: str
    intent: Intent
    weight: float
    generic: bool
    parts: tuple[tuple[str, ...], ...]  # each part: adjacent tokens
    needs: frozenset[str]


def _compile_cues() -> tuple[_Cue, ...]:
    out = []
    for intent, cues in CUES.items():
        for raw, weight in cues:
            generic = raw.startswith("~")
            text = raw.lstrip("~")
            parts = tuple(tuple(p.split()) for p in text.split("+"))
            needs = frozenset(t for p in parts for t in p)
            out.append(_Cue(text, intent, weight, generic, parts, needs))
    return tuple(out)


_CUES = _compile_cues()
_CANON: dict[str, str] = {}
for _canon, _variants in VARIANTS.items():
    _CANON.setdefault(_canon, _canon)
    for _v in _variants.split():
        _CANON.setdefault(_v, _canon)
_KNOWN: frozenset[str] = frozenset(_CANON) | FUNCTION_WORDS
_CUE_TOKENS: frozenset[str] = frozenset(t for c in _CUES for t in c.needs)
# fuzzy targets: known words of 4+ letters (see _fuzzy for how 4-letter ones are used)
_FUZZY_TARGETS: tuple[str, ...] = tuple(
    sorted(w for w in _KNOWN if len(w) >= 4 and w.isalpha() and w.isascii())
)
_FUZZY_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _w in _FUZZY_TARGETS:
    _FUZZY_BY_FIRST[_w[0]] = (*_FUZZY_BY_FIRST.get(_w[0], ()), _w)

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_REDUP = re.compile(r"([^\W\d_]{2,})2\b")  # "bagi2" -> "bagi bagi"
_COMMAND = re.compile(r"(/\w+)@\w+")
_APOSTROPHES = re.compile(r"['’`ʼ‘]")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_REPEAT3 = re.compile(r"(.)\1{2,}")
_REPEAT2 = re.compile(r"(.)\1+")


def normalize(text: str) -> str:
    """Lower-case ASCII-ish words and numbers separated by single spaces; never raises."""
    if not isinstance(text, str) or not text:
        return ""
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])[:MAX_CHARS].casefold()
    # strip accents: "kapán" -> "kapan" (keep the base letters of any script)
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    text = _COMMAND.sub(r"\1", text)  # "/start@kentongan_bot" -> "/start"
    text = _APOSTROPHES.sub("", text)  # "ngekek'i" -> "ngekeki", "ya'opo" -> "yaopo"
    text = _REDUP.sub(r"\1 \1", text)
    # everything that is not a letter or a digit (emoji, punctuation, symbols) becomes a space
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    text = _LETTER_DIGIT.sub(" ", text)
    text = _REPEAT3.sub(r"\1", text)  # "kapaaan" -> "kapan", "halooo" -> "halo"
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Canonical tokens of a message (after variants, suffixes, typos, fillers and merges)."""
    return _analyse(normalize(text))[0]


@lru_cache(maxsize=8192)
def _canonical(word: str) -> tuple[str, bool]:
    """(canonical form, understood?) for one normalised word."""
    if word in _CANON:
        return _CANON[word], True
    if word in FUNCTION_WORDS:
        return word, True
    if word in OFFTOPIC:
        return word, False
    if word.isdigit():
        return word, True
    # Javanese/Indonesian enclitics: undanganku, coblosane, hasile, tpsnya
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if stem in _CANON:
                return _CANON[stem], True
            if stem in FUNCTION_WORDS:
                return stem, True
    squeezed = _REPEAT2.sub(r"\1", word)  # "maaf"-style doubles typed as "kapaan"
    if squeezed != word and squeezed in _CANON:
        return _CANON[squeezed], True
    if len(word) >= 4 and word.isascii() and word.isalpha():
        fuzzy = _fuzzy(word)
        if fuzzy is not None:
            return _CANON.get(fuzzy, fuzzy), True
    return word, False


def _fuzzy(word: str) -> str | None:
    """A known word one typo away (two for long words), or None.

    Short words are where fuzzy matching hurts ("ulang" is one edit from "uang", "pasar" from
    "pasang"), so: a 4-letter word may only be a swap of two letters of a 4-letter word ("jmaa"),
    and longer words only match known words of 5+ letters. Typos keep the first letter almost
    always; insisting on it avoids accidents and keeps the search small.
    """
    if len(word) == 4:
        for cand in _FUZZY_BY_FIRST.get(word[0], ()):
            if len(cand) == 4 and sorted(cand) == sorted(word) and OSA.distance(word, cand) == 1:
                return cand
        return None
    # as documented: a 5+ letter word is never taken for a 4-letter one ("balai" is not "bali")
    choices = tuple(c for c in _FUZZY_BY_FIRST.get(word[0], ()) if len(c) >= 5)
    if not choices:
        return None
    max_dist = 1 if len(word) < 10 else 2
    best = process.extractOne(word, choices, scorer=OSA.distance, score_cutoff=max_dist)
    if best is None:
        return None
    return str(best[0])


def _analyse(norm: str) -> tuple[list[str], bool, int, bool]:
    """Canonical tokens without fillers, election context?, unexplained words, off-topic word?"""
    canon: list[str] = []
    understood: list[bool] = []
    for w in norm.split()[:MAX_TOKENS]:
        c, ok = _canonical(w)
        if c in FILLERS and c not in _CUE_TOKENS:
            continue
        canon.append(c)
        understood.append(ok)
    merged, unexplained = _merge(canon, understood)
    has_context = any(t in CONTEXT for t in merged)
    offtopic = any(t in OFFTOPIC for t in merged)
    return merged, has_context, unexplained, offtopic


_MERGE_MAX = max(len(k) for k in MERGES)


def _merge(seq: list[str], understood: list[bool]) -> tuple[list[str], int]:
    """Greedy longest-first multi-word merge; a word inside a merged term counts as understood."""
    out: list[str] = []
    unexplained = 0
    i = 0
    n = len(seq)
    while i < n:
        for size in range(min(_MERGE_MAX, n - i), 1, -1):
            merged = MERGES.get(tuple(seq[i : i + size]))
            if merged is not None:
                out.append(merged)
                i += size
                break
        else:
            out.append(seq[i])
            unexplained += not understood[i]
            i += 1
    return out, unexplained


def _has_phrase(seq: list[str], phrase: tuple[str, ...]) -> bool:
    if len(phrase) == 1:
        return phrase[0] in seq
    first, size = phrase[0], len(phrase)
    return any(
        seq[i] == first and tuple(seq[i : i + size]) == phrase for i in range(len(seq) - size + 1)
    )


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------

_UNKNOWN = Match(Intent.UNKNOWN, 0.0, ())


def classify(text: str) -> Match:
    """Best intent for a resident's message; UNKNOWN when unsure. Never raises, O(len) capped."""
    norm = normalize(text)
    if not norm:
        return _UNKNOWN
    seq, has_context, unexplained, offtopic = _analyse(norm)
    present = set(seq)

    scores: dict[Intent, float] = {}
    matched: dict[Intent, list[str]] = {}
    specific: set[Intent] = set()
    for cue in _CUES:
        if not cue.needs <= present:
            continue
        if any(len(p) > 1 and not _has_phrase(seq, p) for p in cue.parts):
            continue
        scores[cue.intent] = scores.get(cue.intent, 0.0) + cue.weight
        matched.setdefault(cue.intent, []).append(cue.text)
        if not cue.generic:
            specific.add(cue.intent)
    if not scores:
        return _UNKNOWN

    # step 5: generic cues only count when the message is on-topic or fully understood
    # an everyday off-topic word ("undangan nikahan", "jam berapa pasar buka") without any
    # election word turns even specific cues into generic ones
    on_topic = has_context or (bool(specific) and not offtopic) or unexplained == 0
    if not on_topic:
        best = max(scores, key=lambda i: scores[i])
        return Match(Intent.UNKNOWN, 0.0, tuple(matched[best]))

    # a greeting or a "makasih" inside a real question does not make it a greeting
    others = [i for i in scores if i not in YIELDING]
    if any(scores[i] >= BANTUAN_YIELDS_TO for i in others):
        for intent in YIELDING:
            scores.pop(intent, None)

    ranked = sorted(scores, key=lambda i: (-scores[i], PRIORITY.index(i)))
    top = ranked[0]
    s1 = scores[top]
    s2 = scores[ranked[1]] if len(ranked) > 1 else 0.0
    confidence = _confidence(s1, s2)
    if top is Intent.UNKNOWN:  # everyday evidence won ("harga …", "pemilihan ketua RT")
        return Match(Intent.UNKNOWN, 0.0, tuple(matched[top]))
    if confidence < THRESHOLD:
        return Match(Intent.UNKNOWN, round(confidence, 3), tuple(matched[top]))
    return Match(top, round(confidence, 3), tuple(matched[top]))


def _confidence(s1: float, s2: float) -> float:
    """Strength of the winning evidence times how clearly it beats the runner-up, in 0..1."""
    strength = 1.0 - 2.0 ** (-s1 / 1.5)  # 1.5 -> 0.5, 3 -> 0.75, 4.5 -> 0.875
    margin = (s1 - s2) / s1
    return strength * (0.5 + 0.5 * margin)


def explain(text: str) -> dict[str, object]:
    """Debug view: canonical tokens, context, per-intent scores (for the REPL and test output)."""
    norm = normalize(text)
    seq, has_context, unexplained, offtopic = _analyse(norm)
    present = set(seq)
    per: dict[str, list[str]] = {}
    for cue in _CUES:
        if cue.needs <= present and all(len(p) == 1 or _has_phrase(seq, p) for p in cue.parts):
            per.setdefault(cue.intent.value, []).append(f"{cue.text}={cue.weight}")
    return {
        "normalized": norm,
        "tokens": seq,
        "context": has_context,
        "unexplained": unexplained,
        "offtopic": offtopic,
        "cues": per,
    }
