"""Time as the bot sees it: UTC inside, replaceable in tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


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


@dataclass
class ScaledClock:
    """Real time sped up from a chosen start: the rehearsal plays three days in about a minute."""

    start: datetime
    speed: float
    _origin: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        elapsed = datetime.now(UTC) - self._origin
        return self.start + elapsed * self.speed
