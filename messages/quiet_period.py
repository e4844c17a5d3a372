"""Masa tenang: the stricter rules for an official's own text sent inside it (issue 16).

Outside masa tenang the neutrality guard (messages.neutrality) judges a text by what it says
for or against a pair. Inside it PKPU 13/2024 forbids campaign material in any form and
publishing survey results, so a text that the ordinary guard lets through as "neutral framing"
— a debate to watch, a track record, a survey figure, the incumbent mentioned without a voting
call — is refused as well. The phrases are data (`quiet_period.toml`, with its sources); the
people-allusions come from the profile's own terms file. A phrase after a prohibition
("jangan sebarkan hasil survei") is the city's own appeal and passes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from messages.neutrality import (
    Category,
    Finding,
    Guard,
    Token,
    _phrase_tokens,
    _quote,
    _tokens,
)

QUIET_FILE = Path(__file__).resolve().with_name("quiet_period.toml")
_LONGEST_ALLUSION = 5  # words joined when looking for a pattern such as "mantan pj wali kota"


@dataclass(frozen=True)
class QuietRule:
    name: str
    reason: str
    phrases: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class QuietRules:
    rules: tuple[QuietRule, ...]
    prohibitions: frozenset[str]
    window: int


@cache
def quiet_rules(path: str = str(QUIET_FILE)) -> QuietRules:
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    rules = tuple(
        QuietRule(
            name=str(r["name"]),
            reason=str(r["reason"]),
            phrases=tuple(_phrase_tokens(p) for p in r["patterns"]),
        )
        for r in raw.get("rule", [])
    )
    return QuietRules(
        rules, frozenset(str(w) for w in raw["prohibitions"]), int(raw["prohibition_window"])
    )


_SENTENCE_END = frozenset(".!?")  # a bulleted list after "tidak mengirim:" is one sentence


def _forbidden_before(text: str, tokens: Sequence[Token], i: int, rules: QuietRules) -> bool:
    """A prohibition earlier in the same sentence, at most ``rules.window`` words back."""
    for k in range(i - 1, max(-1, i - 1 - rules.window), -1):
        if _SENTENCE_END & set(text[tokens[k].end : tokens[k + 1].start]):
            return False
        if tokens[k].folded in rules.prohibitions:
            return True
    return False


def _phrase_findings(text: str, tokens: Sequence[Token], rules: QuietRules) -> list[Finding]:
    words = [t.folded for t in tokens]
    found: list[Finding] = []
    for rule in rules.rules:
        for i in range(len(words)):
            hit = next((p for p in rule.phrases if tuple(words[i : i + len(p)]) == p and p), None)
            if hit is None or _forbidden_before(text, tokens, i, rules):
                continue
            found.append(
                Finding(
                    rule.name, Category.QUIET, rule.reason, _quote(text, tokens, i, i + len(hit))
                )
            )
            break  # one finding per rule
    return found


def _allusion_findings(text: str, tokens: Sequence[Token], guard: Guard) -> list[Finding]:
    """The profile's allusions to people (not party symbols), without a voting call."""
    words = [t.folded for t in tokens]
    terms = [
        t
        for t in guard.terms.terms
        if t.category is Category.ALLUSION and t.needs_call and not t.symbol
    ]
    found: list[Finding] = []
    for term in terms:
        for i in range(len(words)):
            joined = ""
            hit = 0
            for j in range(i, min(len(words), i + _LONGEST_ALLUSION)):
                joined += words[j]
                if joined in term.folded:
                    hit = j + 1
            if hit:
                reason = (
                    f"Menyinggung calon ({term.term}); selama masa tenang calon tidak boleh "
                    "disebut atau disindir dalam bentuk apa pun."
                )
                found.append(
                    Finding(term.term, Category.QUIET, reason, _quote(text, tokens, i, hit))
                )
                break
    return found


def quiet_findings(text: str, guard: Guard) -> list[Finding]:
    """What masa tenang adds to the ordinary guard's findings for ``text``."""
    rules = quiet_rules()
    tokens = _tokens(text)
    return [*_phrase_findings(text, tokens, rules), *_allusion_findings(text, tokens, guard)]


def check_text_at(text: str, guard: Guard, *, in_masa_tenang: bool) -> list[Finding]:
    """The guard's findings, and inside masa tenang also the stricter ones."""
    findings = guard.check(text)
    if in_masa_tenang:
        findings += quiet_findings(text, guard)
    return findings
