"""Migration 0008: timeline broadcasts made before agendas belong to their election."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from db.migrate import alembic_config


def test_upgrade_assigns_existing_timeline_broadcasts_to_their_election(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0004")
        connection.execute(
            text(
                "INSERT INTO broadcasts (source, timeline_key, message_key, audience, "
                "scheduled_at, priority, status, created_at) VALUES "
                "('timeline', 'pilkada-2024-kota-malang:h-tps-buka', 'h.tps_buka', 'all', "
                "'2024-11-27 00:00:00', 9, 'done', '2024-11-20 00:00:00'), "
                "('library', NULL, 'hoaks.saring', 'all', '2024-11-25 00:00:00', 0, 'done', "
                "'2024-11-20 00:00:00')"
            )
        )
        command.upgrade(cfg, "head")
        rows = connection.execute(
            text("SELECT message_key, agenda, topic FROM broadcasts ORDER BY id")
        ).all()
        command.downgrade(cfg, "0004")
    engine.dispose()
    assert rows == [
        ("h.tps_buka", "pilkada-2024-kota-malang", "pemilihan"),
        ("hoaks.saring", None, None),
    ]
