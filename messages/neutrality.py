"""The neutrality guard: does a text name a candidate, a party, a slogan, call for a number, or
link to a site outside the election profile's allowlist?

Used by the library check (no shipped message may be partisan) and on the custom text an
official wants to broadcast — so every finding names the rule and the words it matched, in
Bahasa Indonesia the official can read: "Menyebut nama calon (Khofifah)", matched "K h o f i f a h".

The guard normalises before it judges (see ``_normal_chars`` and ``_tokens``):

- HTML tags removed without splitting words ("<b>Kho</b>fifah"), entities decoded, NFKC;
- zero-width and formatting characters and combining marks (accents, keycaps) dropped;
- look-alike letters folded to Latin with a table in data (``messages/confusables.toml``);
- any Unicode digit read as an ASCII digit (Arabic-Indic, circled, dingbat), Roman numerals
  read as numbers where a pair number can stand;
- words are runs of letters and digits; every other character — spaces, punctuation, line
  breaks, bullets — separates them, and a term also matches across separators inside it
  ("K h o f i f a h", "P.K.B", "Kho-fi-fah", "0 3");
- hashtags and @handles are split into words ("#AbahAntonDimyati", "#coblos02"), and a long
  term is also found inside them ("#samhcganis");
- digits inside words read as letters ("Ger1ndra").

The terms are data, per election profile (``[neutrality] terms_file`` in the profile, e.g.
``election/data/elections/pilkada-2024-kota-malang.terms.toml``); that file's header explains
each field and the judgement calls (PBB, PKB as a tax, Garuda, ...).

What a rule cannot decide (allusions a reader catches) is the second official's job:
``approval_findings`` lists the names, numbers, symbols and links an approver should look at.
"""

from __future__ import annotations

import html
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from election.resources import shipped_profile

if TYPE_CHECKING:
    from election.profile import ElectionProfile

# The shipped election's terms (a profile names its own in [neutrality] terms_file).
TERMS_FILE = shipped_profile().with_suffix(".terms.toml")
CONFUSABLES_FILE = Path(__file__).resolve().with_name("confusables.toml")
DEFAULT_LINK_ALLOWLIST: tuple[str, ...] = ("go.id",)


class Category(StrEnum):
    CANDIDATE = "candidate"
    PAIR_NUMBER = "pair_number"
    PARTY = "party"
    SLOGAN = "slogan"
    COALITION = "coalition"
    ALLUSION = "allusion"
    LINK = "link"
    QUIET = "masa_tenang"  # messages.quiet_period: only inside an election's masa tenang

    @property
    def label(self) -> str:
        """The rule in Bahasa Indonesia, for an official's screen."""
        return _LABELS[self]


_LABELS = {
    Category.CANDIDATE: "nama atau julukan calon",
    Category.PAIR_NUMBER: "ajakan memilih nomor urut",
    Category.PARTY: "partai politik",
    Category.SLOGAN: "jargon kampanye",
    Category.COALITION: "koalisi partai",
    Category.ALLUSION: "sindiran tentang calon atau partai",
    Category.LINK: "tautan atau akun di luar daftar resmi",
    Category.QUIET: "masa tenang: tanpa materi kampanye dalam bentuk apa pun",
}

_DEFAULT_REASONS = {
    ("candidate", "name"): "Menyebut nama calon ({term}).",
    ("candidate", "nickname"): "Menyebut julukan calon ({term}).",
    ("candidate", "pair"): "Menyebut sebutan pasangan calon ({term}).",
    ("party", ""): "Menyebut partai politik ({term}).",
    ("slogan", ""): "Memakai jargon kampanye pasangan calon ({term}).",
    ("coalition", ""): "Menyebut koalisi partai pengusung ({term}).",
    ("allusion", ""): "Mengajak memilih calon lewat sindiran atau lambang ({term}).",
}
_PAIR_NUMBER_REASON = "Mengajak memilih nomor urut pasangan calon (\u201c{match}\u201d)."
_LINK_REASON = (
    "Memuat tautan ke {host}, di luar daftar situs yang diizinkan ({allowed}). "
    "Hapus tautan itu atau ganti dengan tautan resmi."
)
_HANDLE_REASON = (
    "Memuat akun media sosial ({handle}). Siaran Pemkot hanya merujuk ke situs resmi; "
    "hapus akun itu."
)
_KINDS = {"candidate": ("name", "nickname", "pair")}
_CATEGORIES = {"candidate", "party", "slogan", "coalition", "allusion"}
_TERM_FIELDS = {
    "term",
    "category",
    "kind",
    "patterns",
    "cased",
    "neutral_after",
    "neutral_before",
    "neutral_context",
    "needs_call",
    "symbol",
    "reason",
}


@dataclass(frozen=True)
class Finding:
    """One rule a text breaks: which term, which rule, why, and the words as written."""

    term: str
    category: Category
    reason: str
    match: str = ""


class TermsError(Exception):
    """The terms file is unreadable or inconsistent; the message names the file and the term."""


# --- characters -------------------------------------------------------------------------------

_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_HREF = re.compile(r"""href\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


@cache
def _confusables() -> dict[str, str]:
    raw = tomllib.loads(CONFUSABLES_FILE.read_text(encoding="utf-8"))
    table = raw.get("letters", {})
    if not all(isinstance(k, str) and len(k) == 1 and isinstance(v, str) for k, v in table.items()):
        raise TermsError(f"{CONFUSABLES_FILE}: setiap kunci satu huruf, setiap nilai teks")
    return dict(table)


@cache
def _normal_char(c: str) -> str:
    """One original character as the guard reads it ('' when it is invisible)."""
    out: list[str] = []
    confusables = _confusables()
    for d in unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", c)):
        category = unicodedata.category(d)
        if category in ("Mn", "Me", "Cf", "Cc") and d not in "\n\r\t":
            continue
        d = confusables.get(d, d)
        if len(d) == 1 and not d.isascii():
            value = unicodedata.digit(d, None)
            if value is not None:
                d = str(value)
        out.append(d)
    return unicodedata.normalize("NFC", "".join(out))


def _normal_chars(text: str) -> list[tuple[str, int]]:
    """The text as (character, index in the original) pairs: tags dropped, entities decoded,
    every character normalised. Lets a finding quote the words as the official wrote them."""
    out: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "<":
            m = _TAG.match(text, i)
            if m:
                href = _HREF.search(m.group(0))
                if href:  # a link's target is read too: '<a href="https://pdip.id">'
                    target = " " + html.unescape(href.group(1)) + " "
                    out.extend((d, i) for e in target for d in _normal_char(e))
                else:
                    out.append(("\u200b", i))  # a tag joins what is around it, see _tokens
                i = m.end()
                continue
        if c == "&":
            m = _ENTITY.match(text, i)
            if m:
                for d in html.unescape(m.group(0)):
                    out.extend((e, i) for e in _normal_char(d))
                i = m.end()
                continue
        out.extend((d, i) for d in _normal_char(c))
        i += 1
    return out


# --- tokens -----------------------------------------------------------------------------------

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"})
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+|[^\W\d_]+")
_LIST_MARKER = re.compile(r"^[ \t\u00a0\u2022\u00b7*\-–—•]*([0-9]+)[.)](?=[ \t]+\S)")


@dataclass(frozen=True)
class Token:
    text: str  # as cased in the text (after normalisation)
    start: int  # index in the original text
    end: int
    tag: bool = False  # inside a hashtag, @handle or link
    marker: bool = False  # a list item's number ("1." at the start of a line)

    @property
    def folded(self) -> str:
        return self.text.casefold()


def _runs(chars: Sequence[tuple[str, int]], leet: bool) -> list[tuple[str, int, int, str]]:
    """Runs of letters/digits: (text, start, end, the character before the run)."""
    runs: list[tuple[str, int, int, str]] = []
    buf: list[str] = []
    start = end = 0
    before = " "
    prev = " "
    for k, (c, idx) in enumerate(chars):
        if c == "\u200b":  # a removed tag: joins, never separates
            continue
        if c == "+":  # "KIM+" is "KIM Plus"
            if buf:
                runs.append(("".join(buf), start, end, before))
                buf = []
            runs.append(("plus", idx, idx + 1, prev))
            prev = c
            continue
        inword = c.isalnum() or (
            leet and c in "@$" and buf and k + 1 < len(chars) and chars[k + 1][0].isalnum()
        )
        if inword:
            if not buf:
                start, before = idx, prev
            buf.append("s" if c == "$" else c)
            end = idx + 1
        elif buf:
            runs.append(("".join(buf), start, end, before))
            buf = []
        if not inword:
            prev = c
    if buf:
        runs.append(("".join(buf), start, end, before))
    return runs


def _markers(text: str, chars: Sequence[tuple[str, int]]) -> set[int]:
    """Original indices of list-item numbers: '1.' or '2)' opening a line followed by text."""
    found: set[int] = set()
    line_start = 0
    plain = "".join(c for c, _ in chars)
    for line in plain.split("\n"):
        m = _LIST_MARKER.match(line)
        if m:
            found.add(chars[line_start + m.start(1)][1])
        line_start += len(line) + 1
    return found


def _tokens(text: str, *, leet: bool = False) -> list[Token]:
    chars = _normal_chars(text)
    markers = _markers(text, chars)
    tokens: list[Token] = []
    plain = "".join(c for c, _ in chars)
    in_link = {chars[k][1] for m in _LINK.finditer(plain) for k in range(m.start(), m.end())}
    for run, start, end, before in _runs(chars, leet):
        tag = before in "#@" or start in in_link
        if leet:
            run = run.replace("@", "a")
            if any(c.isalpha() for c in run) and any(c.isdigit() for c in run):
                run = run.translate(_LEET)
        if tag:
            # a hashtag or handle: its camelCase words and letters/digits become words
            pieces = _CAMEL.findall(run)
            if len(pieces) > 1:
                offset = 0
                for piece in pieces:
                    tokens.append(Token(piece, start + offset, start + offset + len(piece), True))
                    offset += len(piece)
                tokens.append(Token(run, start, end, True))  # also whole, for "#malangberkelas"
                continue
        tokens.append(Token(run, start, end, tag, start in markers))
    return tokens


def normalize(text: str) -> str:
    """The form the guard reads: tags stripped, NFKC, folded look-alikes, case-folded, words."""
    words: list[str] = []
    end = -1
    for t in _tokens(text):
        if t.start >= end or not t.tag:
            words.append(t.folded)
        end = max(end, t.end)
    return " ".join(words)


# --- terms ----------------------------------------------------------------------------------------


def _nospace(phrase: str) -> str:
    return "".join(t.folded for t in _tokens(phrase))


def _phrase_tokens(phrase: str) -> tuple[str, ...]:
    return tuple(t.folded for t in _tokens(phrase))


@dataclass(frozen=True)
class Term:
    term: str
    category: Category
    reason: str
    folded: frozenset[str]  # patterns without separators, case-folded
    cased: frozenset[str]  # cased patterns without separators
    multi_only: frozenset[str]  # forms only a pattern of several words has ("Wa-Li")
    neutral_after: tuple[tuple[str, ...], ...]
    neutral_before: tuple[tuple[str, ...], ...]
    neutral_context: frozenset[str]
    needs_call: bool
    symbol: bool


@dataclass(frozen=True)
class PairNumberRule:
    calls: frozenset[str]
    nouns: frozenset[str]
    fillers: frozenset[str]
    always: tuple[tuple[str, ...], ...]
    numbers: frozenset[str]
    neutral_after: frozenset[str]
    neutral_before_call: frozenset[str]
    wins: frozenset[str]
    neutral_before_number: frozenset[str]


@dataclass(frozen=True)
class TermSet:
    terms: tuple[Term, ...]
    pair_number: PairNumberRule | None
    partisan_context: frozenset[str] = frozenset()
    source: str = ""
    _index: dict[str, list[tuple[Term, bool]]] = field(default_factory=dict, compare=False)
    _longest: int = 0

    def __len__(self) -> int:
        return len(self.terms)


def _strings(raw: dict[str, object], name: str, where: str) -> list[str]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TermsError(f"{where}: '{name}' harus daftar teks")
    return list(value)


def _words(raw: dict[str, object], name: str, where: str) -> frozenset[str]:
    return frozenset(" ".join(_phrase_tokens(w)) for w in _strings(raw, name, where)) - {""}


def _pair_number_rule(raw: dict[str, object], where: str) -> PairNumberRule:
    known = {
        "calls",
        "nouns",
        "between",
        "always",
        "numbers",
        "neutral_after",
        "neutral_before_call",
        "wins",
        "neutral_before_number",
    }
    unknown = set(raw) - known
    if unknown:
        raise TermsError(f"{where}: kolom tidak dikenal {sorted(unknown)}")
    calls = _words(raw, "calls", where)
    numbers = _words(raw, "numbers", where)
    if not (calls and numbers):
        raise TermsError(f"{where}: 'calls' dan 'numbers' wajib diisi")
    return PairNumberRule(
        calls=calls,
        nouns=_words(raw, "nouns", where),
        fillers=_words(raw, "between", where),
        always=tuple(_phrase_tokens(p) for p in _strings(raw, "always", where)),
        numbers=numbers,
        neutral_after=_words(raw, "neutral_after", where),
        neutral_before_call=_words(raw, "neutral_before_call", where),
        wins=_words(raw, "wins", where),
        neutral_before_number=_words(raw, "neutral_before_number", where),
    )


def _term(entry: object, index: int, file: Path, seen: set[str]) -> Term:
    name = entry.get("term") if isinstance(entry, dict) else None
    where = f"{file.name}: term {name or f'ke-{index + 1}'}"
    if not isinstance(entry, dict) or not isinstance(name, str) or not name.strip():
        raise TermsError(f"{where}: 'term' wajib diisi")
    if name in seen:
        raise TermsError(f"{where}: muncul dua kali")
    seen.add(name)
    unknown = set(entry) - _TERM_FIELDS
    if unknown:
        raise TermsError(f"{where}: kolom tidak dikenal {sorted(unknown)}")
    category = entry.get("category")
    if category not in _CATEGORIES:
        raise TermsError(f"{where}: category {category!r} tidak dikenal")
    kind = entry.get("kind", "")
    if kind not in _KINDS.get(category, ("",)):
        raise TermsError(f"{where}: kind {kind!r} tidak cocok untuk {category}")
    patterns = _strings(entry, "patterns", where)
    cased = _strings(entry, "cased", where)
    if not (patterns or cased):
        raise TermsError(f"{where}: butuh 'patterns' atau 'cased'")
    for flag in ("needs_call", "symbol"):
        if not isinstance(entry.get(flag, False), bool):
            raise TermsError(f"{where}: '{flag}' harus true atau false")
    reason = entry.get("reason") or _DEFAULT_REASONS[(category, kind)].format(term=name)
    return Term(
        term=name,
        category=Category(category),
        reason=str(reason),
        folded=frozenset(_nospace(p) for p in patterns) - {""},
        cased=frozenset("".join(t.text for t in _tokens(p)) for p in cased) - {""},
        multi_only=frozenset(_nospace(p) for p in [*patterns, *cased] if len(_phrase_tokens(p)) > 1)
        - frozenset(_nospace(p) for p in [*patterns, *cased] if len(_phrase_tokens(p)) == 1),
        neutral_after=tuple(_phrase_tokens(w) for w in _strings(entry, "neutral_after", where)),
        neutral_before=tuple(_phrase_tokens(w) for w in _strings(entry, "neutral_before", where)),
        neutral_context=_words(entry, "neutral_context", where),
        needs_call=bool(entry.get("needs_call", False)),
        symbol=bool(entry.get("symbol", False)),
    )


def load_terms(path: Path | str | None = None) -> TermSet:
    """Read and compile the partisan terms (default: the shipped profile's terms file)."""
    file = Path(path) if path is not None else TERMS_FILE
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TermsError(f"{file}: {exc}") from exc
    entries = raw.get("term", [])
    if not isinstance(entries, list):
        raise TermsError(f"{file}: 'term' harus berupa [[term]]")
    seen: set[str] = set()
    terms = [_term(entry, i, file, seen) for i, entry in enumerate(entries)]
    pair = raw.get("pair_number")
    rule = _pair_number_rule(pair, f"{file.name}: [pair_number]") if pair else None
    context = raw.get("partisan_context", {})
    if not isinstance(context, dict):
        raise TermsError(f"{file}: [partisan_context] harus tabel")
    partisan = _words(context, "words", f"{file.name}: [partisan_context]")
    index: dict[str, list[tuple[Term, bool]]] = {}
    for term in terms:
        for form in term.folded:
            index.setdefault(form, []).append((term, False))
        for form in term.cased:
            index.setdefault(form.casefold(), []).append((term, True))
    longest = max((len(k) for k in index), default=0)
    return TermSet(tuple(terms), rule, partisan, str(file), index, longest)


@cache
def _terms_at(path: str) -> TermSet:
    return load_terms(path)


def default_terms() -> TermSet:
    return _terms_at(str(TERMS_FILE))


# --- the guard for one election profile ----------------------------------------------------------


@dataclass(frozen=True)
class Guard:
    """The terms and link allowlist of one election profile."""

    terms: TermSet
    allowed_domains: tuple[str, ...] = DEFAULT_LINK_ALLOWLIST
    allowed_handles: frozenset[str] = frozenset()

    def check(self, text: str) -> list[Finding]:
        return check_text(text, self.terms, links=self)

    def link_allowed(self, host: str) -> bool:
        host = host.casefold().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)


def guard_for(profile: ElectionProfile | None) -> Guard:
    """The guard a profile asks for (its terms file and link allowlist); defaults without one."""
    if profile is None:
        return Guard(default_terms())
    settings = profile.neutrality
    terms = _terms_at(str(profile.terms_path)) if profile.terms_path else default_terms()
    return Guard(
        terms,
        tuple(d.casefold() for d in settings.link_allowlist),
        frozenset(h.casefold().lstrip("@") for h in settings.allowed_handles),
    )


# --- matching -----------------------------------------------------------------------------------


def _has(tokens: Sequence[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(tokens[i : i + n]) == phrase for i in range(len(tokens) - n + 1))


def _quote(text: str, tokens: Sequence[Token], i: int, j: int) -> str:
    """The matched words as written; inside a tag (a link's href), the words themselves."""
    written = text[tokens[i].start : tokens[j - 1].end]
    if "<" in written or ">" in written:
        return " ".join(t.text for t in tokens[i:j])
    return " ".join(written.split())


def _is_call(termset: TermSet, words: Sequence[str]) -> bool:
    rule = termset.pair_number
    return rule is not None and any(w in rule.calls for w in words)


def _is_win(termset: TermSet, words: Sequence[str]) -> bool:
    rule = termset.pair_number
    return rule is not None and any(w in rule.wins for w in words)


def _term_neutral(
    termset: TermSet, term: Term, words: Sequence[str], i: int, j: int, cased: bool
) -> bool:
    """Is the match tokens[i:j] an ordinary word here (a street, a tax, a neighbour)?"""
    after = words[j : j + 3]
    before = words[max(0, i - 3) : i]
    for phrase in term.neutral_after:
        if tuple(after[: len(phrase)]) == phrase:
            return True
    for phrase in term.neutral_before:
        if tuple(before[-len(phrase) :]) == phrase:
            return True
    near = words[max(0, i - 5) : j + 5]
    partisan = _is_call(termset, near) or any(w in termset.partisan_context for w in near)
    if term.neutral_context and not partisan:
        spaced = " " + " ".join(near) + " "
        if any(f" {w} " in spaced for w in term.neutral_context):
            return True
    if term.needs_call:
        rule = termset.pair_number
        wins = rule.wins if rule else frozenset()
        return not (_is_call(termset, words[max(0, i - 3) : i]) or any(w in wins for w in after))
    return False


def _shouted(tokens: Sequence[Token], i: int, j: int) -> bool:
    """An acronym-like word inside a line written all in capitals ("KENANGAN ABADI")."""
    around = [t.text for t in [*tokens[max(0, i - 2) : i], *tokens[j : j + 2]] if t.text.isalpha()]
    return bool(around) and all(w.isupper() and len(w) >= 3 for w in around)


def _find_terms(text: str, termset: TermSet, tokens: Sequence[Token]) -> dict[str, Finding]:
    found: dict[str, Finding] = {}
    words = [t.folded for t in tokens]
    for i in range(len(tokens)):
        joined = ""
        for j in range(i, len(tokens)):
            if tokens[j].tag and j > i and tokens[j].start < tokens[j - 1].end:
                break  # a whole hashtag after its pieces: never joined to them
            joined += words[j]
            if len(joined) > termset._longest:
                break
            for term, cased in termset._index.get(joined, ()):
                if term.term in found:
                    continue
                if cased:
                    written = "".join(t.text for t in tokens[i : j + 1])
                    if written not in term.cased and not (
                        _is_call(termset, words[max(0, i - 3) : i])
                        or _is_win(termset, words[j + 1 : j + 2])
                    ):
                        continue
                    if (
                        written in term.cased
                        and _shouted(tokens, i, j + 1)
                        and not _is_call(termset, words[max(0, i - 3) : i])
                    ):
                        continue
                if joined in term.multi_only and i == j and not tokens[i].tag and len(joined) < 6:
                    continue  # "wali" is not "Wa-Li"
                if _term_neutral(termset, term, words, i, j + 1, cased):
                    continue
                found[term.term] = Finding(
                    term.term, term.category, term.reason, _quote(text, tokens, i, j + 1)
                )
    # inside hashtags, handles and links: long terms anywhere in the word ("#samhcganis")
    for t in tokens:
        if not t.tag or len(t.folded) < 6:
            continue
        for form, entries in termset._index.items():
            if len(form) >= 5 and form in t.folded:
                for term, cased in entries:
                    if term.term not in found and not cased and not term.needs_call:
                        found[term.term] = Finding(
                            term.term, term.category, term.reason, text[t.start : t.end]
                        )
    return found


_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8"}


def _number_at(rule: PairNumberRule, tokens: Sequence[Token], k: int) -> tuple[int, str] | None:
    """(tokens used, the number) when a pair number starts at tokens[k]."""
    if k >= len(tokens) or tokens[k].marker:
        return None
    w = tokens[k].folded
    if w.isdigit() and len(w) == 1 and k + 1 < len(tokens):
        nxt = tokens[k + 1].folded
        if nxt.isdigit() and len(nxt) == 1 and (w + nxt) in rule.numbers:
            return 2, w + nxt  # "0 3", "0-2"
    if w in rule.numbers:
        return 1, w
    roman = _ROMAN.get(w)
    if roman and roman in rule.numbers:
        return 1, roman
    return None


def _find_pair_number(text: str, termset: TermSet, tokens: Sequence[Token]) -> Finding | None:
    rule = termset.pair_number
    if rule is None:
        return None
    words = [t.folded for t in tokens]
    n = len(tokens)

    def counted(k: int, used: int) -> bool:
        nxt = words[k + used] if k + used < n else ""
        return nxt in rule.neutral_after

    for i, w in enumerate(words):
        # "nomor urut 3", "no urut 2"
        for phrase in rule.always:
            if tuple(words[i : i + len(phrase)]) == phrase:
                got = _number_at(rule, tokens, i + len(phrase))
                if got and not counted(i + len(phrase), got[0]):
                    return _pair(text, tokens, i, i + len(phrase) + got[0])
        # a call or a word for a pair, fillers, then a number
        if w in rule.calls or w in rule.nouns:
            if w in rule.calls and i > 0 and words[i - 1] in rule.neutral_before_call:
                continue  # "cara mencoblos", "saat mencoblos"
            k = i + 1
            skipped = 0
            while k < n and skipped <= 4:
                got = _number_at(rule, tokens, k)
                if got:
                    if not counted(k, got[0]):
                        return _pair(text, tokens, i, k + got[0])
                    break
                if words[k] in rule.fillers:
                    k += 1
                    skipped += 1
                    continue
                break
        # "salam 3 jari"
        if w == "salam":
            got = _number_at(rule, tokens, i + 1)
            if got and i + 1 + got[0] < n and words[i + 1 + got[0]] == "jari":
                return _pair(text, tokens, i, i + 2 + got[0])
        # "#03", "03 menang", "nomor 1 menang telak"
        got = _number_at(rule, tokens, i)
        if got and (w.isdigit() or (i > 0 and words[i - 1] in rule.fillers)):
            number_end = i + got[0]
            if tokens[i].tag and w.isdigit() and len(w) == 2:
                return _pair(text, tokens, i, number_end)
            if i > 0 and words[i - 1] in rule.neutral_before_number:
                continue
            if w.isdigit() and i > 0 and words[i - 1] in rule.wins and not counted(i, got[0]):
                return _pair(text, tokens, i - 1, number_end)  # "pasti menang 03"
            k = number_end
            for _ in range(3):
                if k < n and words[k] in rule.wins:
                    return _pair(text, tokens, i, k + 1)
                if k < n and words[k] in rule.fillers:
                    k += 1
                    continue
                break
    return None


def _pair(text: str, tokens: Sequence[Token], i: int, j: int) -> Finding:
    """The call as the guard read it ("coblos no 2") and as it was written ("COBLOS No.2")."""
    words = [t.folded for t in tokens[i:j]]
    if len(words) >= 2 and all(len(w) == 1 and w.isdigit() for w in words[-2:]):
        words[-2:] = ["".join(words[-2:])]  # "0 2" was read as 02
    read = " ".join(words)
    if j - i == 1 and tokens[i].tag:
        read = "#" + read
    return Finding(
        read,
        Category.PAIR_NUMBER,
        _PAIR_NUMBER_REASON.format(match=read),
        _quote(text, tokens, i, j),
    )


# --- links ---------------------------------------------------------------------------------------

_TLDS = (
    "id|com|net|org|co|me|io|info|xyz|ly|gl|ws|app|site|online|my|biz|tv|link|page|web|store"
    "|shop|club|top|live|news|gg|to|be|cc|ink|li|website|space|tech|blog"
)
_DOT = r"(?:\.|\[\.\]|\(\.\)|\s?\[dot\]\s?|\s?\(dot\)\s?)"
_HOST = rf"(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?{_DOT})+(?:{_TLDS})"
_LINK = re.compile(
    rf"(?<![\w.-])(?:https?://)?((?:www{_DOT})?{_HOST})(?![\w-])(?:[/?#][^\s<>\"']*)?"
    rf"|https?://([^\s/<>\"']+)",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w@.])@([A-Za-z0-9_](?:[A-Za-z0-9_.]{0,30}[A-Za-z0-9_])?)")
_UNDOT = re.compile(r"\[\.\]|\(\.\)|\s?\[dot\]\s?|\s?\(dot\)\s?", re.IGNORECASE)


def _plain(text: str) -> str:
    """Visible characters normalised, tags dropped, link targets (href) kept as words."""
    return "".join(c for c, _ in _normal_chars(text) if c != "\u200b")


def find_links(text: str) -> list[str]:
    """Every host a text links to (with or without http, "[.]" obfuscations undone)."""
    hosts: list[str] = []
    for m in _LINK.finditer(_plain(text)):
        host = _UNDOT.sub(".", m.group(1) or m.group(2) or "").casefold().strip(".")
        host = host.split("@")[-1].split(":")[0]
        if host and host not in hosts:
            hosts.append(host)
    return hosts


def find_handles(text: str) -> list[str]:
    plain = _plain(text)
    return list(dict.fromkeys("@" + m.group(1) for m in _HANDLE.finditer(plain)))


def _link_findings(text: str, guard: Guard) -> list[Finding]:
    findings: list[Finding] = []
    allowed = ", ".join(guard.allowed_domains) or "tidak ada"
    for host in find_links(text):
        if not guard.link_allowed(host):
            reason = _LINK_REASON.format(host=host, allowed=allowed)
            findings.append(Finding(host, Category.LINK, reason, host))
    for handle in find_handles(text):
        if handle.casefold().lstrip("@") not in guard.allowed_handles:
            findings.append(
                Finding(handle, Category.LINK, _HANDLE_REASON.format(handle=handle), handle)
            )
    return findings


# --- the guard ------------------------------------------------------------------------------------


def check_text(
    text: str, terms: TermSet | None = None, *, links: Guard | None = None
) -> list[Finding]:
    """Every rule ``text`` (plain or Telegram HTML) breaks, at most one finding per term.

    ``links`` is the profile's guard whose allowlist links are judged against; without it the
    default allowlist (go.id) applies."""
    termset = terms or default_terms()
    findings: list[Finding] = []
    plain = _tokens(text)
    leet = _tokens(text, leet=True)
    pair = _find_pair_number(text, termset, plain) or _find_pair_number(text, termset, leet)
    if pair:
        findings.append(pair)
    found = _find_terms(text, termset, plain)
    for name, finding in _find_terms(text, termset, leet).items():
        found.setdefault(name, finding)
    order = {t.term: k for k, t in enumerate(termset.terms)}
    findings.extend(sorted(found.values(), key=lambda f: order[f.term]))
    findings.extend(_link_findings(text, links or Guard(termset)))
    return findings


def is_neutral(text: str, terms: TermSet | None = None, *, links: Guard | None = None) -> bool:
    return not check_text(text, terms, links=links)


def explain(findings: list[Finding]) -> str:
    """One paragraph for an official (plain text; escape it for HTML): which rule each finding
    breaks and the words matched."""
    if not findings:
        return "Teks ini netral."
    lines = ["Teks ini belum bisa disiarkan karena tidak netral:"]
    for f in findings:
        quoted = f" Tertulis: \u201c{f.match}\u201d." if f.match else ""
        lines.append(f"• {f.reason} (Aturan: {f.category.label}.){quoted}")
    lines.append("Siaran Pemkot tidak boleh menguntungkan atau merugikan pasangan calon mana pun.")
    return "\n".join(lines)


# --- what an approver should look at ----------------------------------------------------------

_SYMBOL_CHARS = ("So", "Sk")
_NAME_STOP = frozenset(
    """ayo mari jangan bapak ibu warga kota kabupaten kelurahan kecamatan malang jawa timur rt rw
    tps kpu kpps pps ppk bawaslu panwaslu pemkot pilkada pilgub pilwali pemilu pemilihan rabu
    kamis jumat sabtu minggu senin selasa november desember oktober wib dpt dpk dptb ktp el
    terima kasih selamat salam info cek hari the untuk dan di ke dari yang ini itu bila sudah
    belum tolak datang""".split()
)


@dataclass(frozen=True)
class ApprovalFindings:
    """What the approval screen highlights: the rule findings, then everything a person must
    judge (names, numbers, symbols, links) — allusions are the second official's check."""

    findings: tuple[Finding, ...]
    names: tuple[str, ...]
    numbers: tuple[str, ...]
    symbols: tuple[str, ...]
    links: tuple[str, ...]


def approval_findings(text: str, guard: Guard | None = None) -> ApprovalFindings:
    guard = guard or Guard(default_terms())
    tokens = _tokens(text)
    names: list[str] = []
    run: list[Token] = []
    for t in [*tokens, Token("", 0, 0)]:
        if t.text[:1].isupper() and t.text.casefold() not in _NAME_STOP and not t.tag:
            run.append(t)
            continue
        if run:
            names.append(" ".join(x.text for x in run))
            run = []
    numbers = [
        f"{tokens[k - 1].text} {t.text}" if k else t.text
        for k, t in enumerate(tokens)
        if t.text.isdigit() and not t.marker
    ]
    plain = _plain(text)
    symbols = [c for c in dict.fromkeys(plain) if unicodedata.category(c) in _SYMBOL_CHARS]
    words = [t.folded for t in tokens]
    for term in guard.terms.terms:
        if term.symbol and any(f in "".join(words) for f in term.folded):
            symbols.append(term.term)
    links = [*find_links(text), *find_handles(text)]
    links.extend(f"#{tag}" for tag in re.findall(r"(?<![\w#])#(\w+)", plain))
    return ApprovalFindings(
        findings=tuple(check_text(text, guard.terms, links=guard)),
        names=tuple(dict.fromkeys(names)),
        numbers=tuple(dict.fromkeys(numbers)),
        symbols=tuple(dict.fromkeys(symbols)),
        links=tuple(dict.fromkeys(links)),
    )
