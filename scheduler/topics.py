"""What an agenda is about; groups may turn off optional topics, never election or emergency."""

from __future__ import annotations

# topic -> its Indonesian label (shown in /topik, /agenda and `plan`).
TOPICS: dict[str, str] = {
    "pemilihan": "Pemilihan umum",
    "bencana": "Bencana & darurat",
    "kesehatan": "Kesehatan",
    "lingkungan": "Lingkungan & kebersihan",
    "keamanan": "Keamanan lingkungan",
    "umum": "Informasi umum",
}

# Every registered group receives these: the election (the bot's first duty) and emergencies.
FORCED_TOPICS: frozenset[str] = frozenset({"pemilihan", "bencana"})

OPTIONAL_TOPICS: tuple[str, ...] = tuple(t for t in TOPICS if t not in FORCED_TOPICS)


def is_optional(topic: str | None) -> bool:
    """Whether a group may opt out; an official's one-off broadcast (no topic) always reaches."""
    return topic is not None and topic in TOPICS and topic not in FORCED_TOPICS
