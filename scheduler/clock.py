"""Time as the bot sees it: UTC inside, replaceable in tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def seconds_until(self, when: datetime) -> float:
        """Real seconds to wait until this clock shows `when` (0 if it is past)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def seconds_until(self, when: datetime) -> float:
        return max(0.0, (when - self.now()).total_seconds())


@dataclass
class FixedClock:
    """A clock that tests move by hand."""

    current: datetime = field(default_factory=lambda: datetime(2024, 11, 25, 1, 0, tzinfo=UTC))

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.current = self.current.astimezone(UTC)

    def now(self) -> datetime:
        return self.current

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.current = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self.current += delta

    def seconds_until(self, when: datetime) -> float:
        # A fixed clock never reaches a future time by itself: tests move it, then run jobs.
        return 0.0 if when <= self.current else float("inf")


@dataclass
class ScaledClock:
    """Real time sped up from a chosen start: the rehearsal plays three days in about a minute."""

    start: datetime
    speed: float
    _origin: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        elapsed = datetime.now(UTC) - self._origin
        return self.start + elapsed * self.speed

    def seconds_until(self, when: datetime) -> float:
        return max(0.0, (when - self.now()).total_seconds() / self.speed)


@dataclass
class RehearsalClock:
    """Sped-up time that can skip ahead: the rehearsal jumps over the quiet hours between
    reminders and runs the busy minutes at `speed` (60: one real second is one minute)."""

    start: datetime
    speed: float = 60.0
    _origin: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.start + (datetime.now(UTC) - self._origin) * self.speed

    def seconds_until(self, when: datetime) -> float:
        return max(0.0, (when - self.now()).total_seconds() / self.speed)

    def jump(self, to: datetime) -> None:
        """Continue from `to` (never backwards: time already shown stays shown)."""
        if to > self.now():
            self.start, self._origin = to, datetime.now(UTC)
