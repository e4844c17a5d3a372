"""The per-group pace: 20 sends within any minute, counted with a margin for the way there."""

from __future__ import annotations

from scheduler.ratelimit import CHAT_WINDOW, ChatPacer


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_21st_send_waits_a_minute_and_its_margin_after_the_first() -> None:
    ticks = Ticks()
    pacer = ChatPacer(20, monotonic=ticks)
    for _ in range(20):
        assert pacer.delay_for(-100) == 0.0
        pacer.record(-100)
        ticks.now += 0.25
    assert pacer.sent_recently(-100) == 20
    assert pacer.delay_for(-200) == 0.0  # another chat has its own minute
    # 5 s after the first send: a full 60 s would leave 55 s; the margin keeps the last second.
    assert pacer.delay_for(-100) == CHAT_WINDOW - 5.0 > 55.0
    ticks.now = 1000.0 + 60.0  # Telegram's minute is over, but a send recorded here arrives later
    assert pacer.delay_for(-100) > 0.0
    ticks.now = 1000.0 + CHAT_WINDOW
    assert pacer.delay_for(-100) == 0.0
    assert pacer.sent_recently(-100) == 19
