"""Injected trouble: extra 429s, 5xx answers, slow answers, dropped connections, time-outs.

Every random draw comes from one ``random.Random(seed)``, so a run with the same seed and the
same sequence of requests meets the same faults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["retry_after", "server_error", "latency", "drop", "timeout"]


@dataclass(frozen=True)
class Latency:
    """How long an answer takes, in milliseconds."""

    kind: Literal["fixed", "uniform", "normal"] = "fixed"
    a: float = 0.0  # fixed: the value; uniform: low; normal: mean
    b: float = 0.0  # uniform: high; normal: standard deviation

    @classmethod
    def fixed(cls, ms: float) -> Latency:
        return cls("fixed", ms)

    @classmethod
    def uniform(cls, low_ms: float, high_ms: float) -> Latency:
        return cls("uniform", low_ms, high_ms)

    @classmethod
    def normal(cls, mean_ms: float, stdev_ms: float) -> Latency:
        return cls("normal", mean_ms, stdev_ms)

    def sample_seconds(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            ms = self.a
        elif self.kind == "uniform":
            ms = rng.uniform(self.a, self.b)
        else:
            ms = rng.gauss(self.a, self.b)
        return max(0.0, ms) / 1000.0


@dataclass
class Fault:
    """One rule: when a request matches, with ``probability``, do ``kind`` (at most ``times``).

    - ``retry_after``: 429 "Too Many Requests: retry after N" with ``parameters.retry_after``.
    - ``server_error``: ``status`` (502 by default) with ``description``.
    - ``latency``: answer normally after ``latency``.
    - ``drop``: close the connection without an answer. With ``after_processing`` the call has
      taken effect first (the message was sent, the answer was lost).
    - ``timeout``: hold the request for ``hold_seconds`` (longer than the client waits), then
      drop it; ``after_processing`` as for ``drop``.
    """

    kind: FaultKind
    method: str | None = None  # case-insensitive; None matches every method
    chat_id: int | None = None
    probability: float = 1.0
    times: int | None = None  # None: unlimited
    retry_after: int = 5
    status: int = 502
    description: str = "Bad Gateway"
    latency: Latency = field(default_factory=Latency)
    hold_seconds: float = 30.0
    after_processing: bool = False
    fired: int = 0

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.method is not None and self.method.lower() != method:
            return False
        return self.chat_id is None or self.chat_id == chat_id


class FaultPlan:
    """The rules in force and the seeded generator that decides them."""

    def __init__(self, rules: list[Fault] | None = None, *, seed: int = 0) -> None:
        self.rules: list[Fault] = list(rules or [])
        self.rng = random.Random(seed)
        self.latency: Latency | None = None  # applied to every request

    def add(self, fault: Fault) -> Fault:
        self.rules.append(fault)
        return fault

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, method: str, chat_id: int | None) -> list[Fault]:
        """The rules that fire for this request, in order (several latencies add up)."""
        fired = []
        for rule in self.rules:
            if not rule.matches(method, chat_id):
                continue
            if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                continue
            rule.fired += 1
            fired.append(rule)
        return fired

    def base_delay(self) -> float:
        return self.latency.sample_seconds(self.rng) if self.latency else 0.0
