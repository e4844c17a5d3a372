"""The neutrality guard: does a text name a candidate, a party, a slogan, or call for a number?

Used by the library check (no shipped message may be partisan) and, later, on the custom text
an official wants to broadcast — so every finding carries a reason in Bahasa Indonesia that
the official can read: "Menyebut nama calon (Khofifah)."

The terms are data (``partisan_terms.toml`` beside this file, from §7 of the domain notes);
the file's header explains the normalisation and the judgement calls (PBB, PAN, Garuda, …).
"""

from __future__ import annotations

import html
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

TERMS_FILE = Path(__file__).resolve().parent / "partisan_terms.toml"


class Category(StrEnum):
    CANDIDATE = "candidate"
    PAIR_NUMBER = "pair_number"
    PARTY = "party"
    SLOGAN = "slogan"
    COALITION = "coalition"

    @property
    def label(self) -> str:
        """The category in Bahasa Indonesia, for an official's screen."""
        return _LABELS[self]


_LABELS = {
    Category.CANDIDATE: "nama atau julukan calon",
    Category.PAIR_NUMBER: "ajakan memilih nomor urut",
    Category.PARTY: "partai politik",
    Category.SLOGAN: "jargon kampanye",
    Category.COALITION: "koalisi partai",
}

_DEFAULT_REASONS = {
    ("candidate", "name"): "Menyebut nama calon ({term}).",
    ("candidate", "nickname"): "Menyebut julukan calon ({term}).",
    ("candidate", "pair"): "Menyebut sebutan pasangan calon ({term}).",
    ("party", ""): "Menyebut partai politik ({term}).",
    ("slogan", ""): "Memakai jargon kampanye pasangan calon ({term}).",
    ("coalition", ""): "Menyebut koalisi partai pengusung ({term}).",
}
_PAIR_NUMBER_REASON = "Mengajak memilih nomor urut pasangan calon (\u201c{match}\u201d)."
_KINDS = {"candidate": ("name", "nickname", "pair")}


@dataclass(frozen=True)
class Finding:
    """One partisan term in a text."""

    term: str
    category: Category
    reason: str
    match: str = ""


class TermsError(Exception):
    """The terms file is unreadable or inconsistent; the message names the file and the term."""


# --- normalisation ------------------------------------------------------------------------------

_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_LINE_BREAK = re.compile(r"[\n\r\u2028\u2029\u2022\u00b7]+")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"})


def _clean(text: str) -> str:
    """Entities decoded, NFKC, accents and invisible characters (zero-width etc.) dropped."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Cf"))
    return unicodedata.normalize("NFC", kept)


def _words(text: str) -> str:
    """Letters, digits and '#' kept, '+' read as "plus" ("KIM+"); everything else one space."""
    chars = [c if (c.isalnum() or c == "#") else " plus " if c == "+" else " " for c in text]
    return " ".join("".join(chars).split())


def _join_single_letters(text: str) -> str:
    """'p d i p' -> 'pdip' (runs of three or more single letters)."""
    out: list[str] = []
    run: list[str] = []
    for token in [*text.split(" "), ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        out.extend(["".join(run)] if len(run) >= 3 else run)
        run = []
        if token:
            out.append(token)
    return " ".join(out)


def _deleet(text: str) -> str:
    """Digits inside words read as letters: 'ger1ndra' -> 'gerindra'; numbers stay numbers."""
    return " ".join(
        t.translate(_LEET) if any(c.isalpha() for c in t) and any(c.isdigit() for c in t) else t
        for t in text.split(" ")
    )


def normalize(text: str) -> str:
    """The form the guard reads: tags stripped, NFKC, case-folded, punctuation as spaces."""
    return _words(_clean(_TAG.sub("", text))).casefold()


def _variants(text: str) -> tuple[list[str], list[str]]:
    """(case-sensitive variants, case-folded variants) of the text to search."""
    stripped = _clean(_TAG.sub("", text))
    raw = _clean(text)  # tags read as words too: catches "<Khofifah>" and party links in href
    symbols = stripped.replace("@", "a").replace("$", "s")
    cased = [_words(stripped), _words(raw)]
    cased.append(_join_single_letters(cased[0]))
    folded = [c.casefold() for c in cased]
    folded.append(_deleet(_words(symbols).casefold()))
    folded.append(_deleet(_join_single_letters(_words(symbols).casefold())))
    return _dedupe(cased), _dedupe(folded)


def _lines(text: str) -> list[str]:
    """The text cut at line breaks and bullets, each piece normalised (for pair numbers)."""
    stripped = _clean(_TAG.sub("", text))
    pieces = [_words(piece).casefold() for piece in _LINE_BREAK.split(stripped)]
    return [p for p in pieces if p]


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- terms ----------------------------------------------------------------------------------------


def _alternatives(phrases: Iterable[str], fold: bool) -> str | None:
    forms = {(_words(_clean(p)).casefold() if fold else _words(_clean(p))) for p in phrases}
    forms.discard("")
    if not forms:
        return None
    ordered = sorted(forms, key=lambda f: (-len(f), f))
    return r"(?<!\w)(?:" + "|".join(re.escape(f) for f in ordered) + r")(?!\w)"


@dataclass(frozen=True)
class Term:
    term: str
    category: Category
    reason: str
    folded: re.Pattern[str] | None
    cased: re.Pattern[str] | None
    neutral_after: frozenset[str]
    neutral_before: frozenset[str]

    def find(self, cased: list[str], folded: list[str]) -> str | None:
        for pattern, texts in ((self.cased, cased), (self.folded, folded)):
            if pattern is None:
                continue
            for text in texts:
                for m in pattern.finditer(text):
                    if not self._neutral(text, m):
                        return m.group(0)
        return None

    def _neutral(self, text: str, m: re.Match[str]) -> bool:
        after = text[m.end() :].split(" ", 2)
        following = after[1] if len(after) > 1 else ""
        before = text[: m.start()].split()
        preceding = before[-1] if before else ""
        return (
            following.casefold() in self.neutral_after
            or preceding.casefold() in self.neutral_before
        )


@dataclass(frozen=True)
class PairNumberRule:
    pattern: re.Pattern[str]

    def find(self, lines: list[str]) -> str | None:
        """First call in any line; a call never reaches across a line break or a bullet, so
        a heading "Cara mencoblos" above "1. Serahkan undangan…" is not a call."""
        for text in lines:
            m = self.pattern.search(text)
            if m:
                return m.group(0)
        return None


@dataclass(frozen=True)
class TermSet:
    terms: tuple[Term, ...]
    pair_number: PairNumberRule | None

    def __len__(self) -> int:
        return len(self.terms)


def _strings(raw: dict[str, object], name: str, where: str) -> list[str]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TermsError(f"{where}: '{name}' harus daftar teks")
    return list(value)


def _words_alt(words: Iterable[str]) -> str:
    forms = sorted({_words(w).casefold() for w in words} - {""}, key=lambda f: (-len(f), f))
    return "|".join(re.escape(f) for f in forms)


def _pair_number_rule(raw: dict[str, object], where: str) -> PairNumberRule:
    calls = _strings(raw, "calls", where)
    nouns = _strings(raw, "nouns", where)
    between = _strings(raw, "between", where)
    always = _strings(raw, "always", where)
    numbers = _strings(raw, "numbers", where)
    neutral_after = _strings(raw, "neutral_after", where)
    if not (calls and numbers):
        raise TermsError(f"{where}: 'calls' dan 'numbers' wajib diisi")
    lead = _words_alt([*calls, *nouns])
    mid = _words_alt(between)
    num = _words_alt(numbers)
    stop = _words_alt(neutral_after)
    tail = rf"(?!\w)(?! (?:{stop})(?!\w))" if stop else r"(?!\w)"
    middle = rf"(?: (?:{mid})){{0,3}}" if mid else ""
    forms = [rf"(?<!\w)(?:{lead}){middle} (?:{num}){tail}"]
    if always:
        forms.append(rf"(?<!\w)(?:{_words_alt(always)}) (?:{num}){tail}")
    forms.append(r"(?<![\w#])#0[1-9](?!\w)")
    forms.append(rf"(?<!\w)salam (?:{num}) jari(?!\w)")
    return PairNumberRule(re.compile("|".join(forms)))


def load_terms(path: Path | str | None = None) -> TermSet:
    """Read and compile the partisan terms (default: the shipped ``partisan_terms.toml``)."""
    file = Path(path) if path is not None else TERMS_FILE
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TermsError(f"{file}: {exc}") from exc
    terms: list[Term] = []
    seen: set[str] = set()
    entries = raw.get("term", [])
    if not isinstance(entries, list):
        raise TermsError(f"{file}: 'term' harus berupa [[term]]")
    for index, entry in enumerate(entries):
        name = entry.get("term") if isinstance(entry, dict) else None
        where = f"{file.name}: term {name or f'ke-{index + 1}'}"
        if not isinstance(entry, dict) or not isinstance(name, str) or not name.strip():
            raise TermsError(f"{where}: 'term' wajib diisi")
        if name in seen:
            raise TermsError(f"{where}: muncul dua kali")
        seen.add(name)
        unknown = set(entry) - {
            "term",
            "category",
            "kind",
            "patterns",
            "cased",
            "neutral_after",
            "neutral_before",
            "reason",
        }
        if unknown:
            raise TermsError(f"{where}: kolom tidak dikenal {sorted(unknown)}")
        category = entry.get("category")
        if category not in {"candidate", "party", "slogan", "coalition"}:
            raise TermsError(f"{where}: category {category!r} tidak dikenal")
        kind = entry.get("kind", "")
        if kind not in _KINDS.get(category, ("",)):
            raise TermsError(f"{where}: kind {kind!r} tidak cocok untuk {category}")
        patterns = _strings(entry, "patterns", where)
        cased = _strings(entry, "cased", where)
        if not (patterns or cased):
            raise TermsError(f"{where}: butuh 'patterns' atau 'cased'")
        reason = entry.get("reason") or _DEFAULT_REASONS[(category, kind)].format(term=name)
        folded_alt = _alternatives(patterns, fold=True)
        cased_alt = _alternatives(cased, fold=False)
        terms.append(
            Term(
                term=name,
                category=Category(category),
                reason=str(reason),
                folded=re.compile(folded_alt) if folded_alt else None,
                cased=re.compile(cased_alt) if cased_alt else None,
                neutral_after=frozenset(
                    w.casefold() for w in _strings(entry, "neutral_after", where)
                ),
                neutral_before=frozenset(
                    w.casefold() for w in _strings(entry, "neutral_before", where)
                ),
            )
        )
    pair = raw.get("pair_number")
    rule = _pair_number_rule(pair, f"{file.name}: [pair_number]") if pair else None
    return TermSet(terms=tuple(terms), pair_number=rule)


_default_terms: TermSet | None = None


def default_terms() -> TermSet:
    global _default_terms
    if _default_terms is None:
        _default_terms = load_terms()
    return _default_terms


def check_text(text: str, terms: TermSet | None = None) -> list[Finding]:
    """Every partisan term in ``text`` (plain or Telegram HTML), at most one finding per term."""
    termset = terms or default_terms()
    cased, folded = _variants(text)
    findings: list[Finding] = []
    if termset.pair_number is not None:
        match = termset.pair_number.find(_lines(text))
        if match:
            findings.append(
                Finding(
                    term=match,
                    category=Category.PAIR_NUMBER,
                    reason=_PAIR_NUMBER_REASON.format(match=match),
                    match=match,
                )
            )
    for term in termset.terms:
        match = term.find(cased, folded)
        if match is not None:
            findings.append(Finding(term.term, term.category, term.reason, match))
    return findings


def is_neutral(text: str, terms: TermSet | None = None) -> bool:
    return not check_text(text, terms)


def explain(findings: list[Finding]) -> str:
    """One paragraph for an official: why the text cannot be broadcast as it is."""
    if not findings:
        return "Teks ini netral."
    lines = ["Teks ini belum bisa disiarkan karena tidak netral:"]
    lines.extend(f"• {f.reason}" for f in findings)
    lines.append("Siaran Pemkot tidak boleh menguntungkan atau merugikan pasangan calon mana pun.")
    return "\n".join(lines)
