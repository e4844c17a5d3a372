"""agendas: programmes of broadcasts, each broadcast's agenda and topic, groups' topic opt-outs

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0008"
# The brief says "0001"; this branch already holds 0004 (also on 0001), and two heads would stop
# `upgrade head`. The lead re-chains when merging.
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agenda", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("topic", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_broadcasts_agenda"), ["agenda"], unique=False)
    # Timeline broadcasts made before agendas belong to the election named in their key.
    broadcasts = sa.table(
        "broadcasts",
        sa.column("id", sa.Integer),
        sa.column("timeline_key", sa.String),
        sa.column("agenda", sa.String),
        sa.column("topic", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(broadcasts.c.id, broadcasts.c.timeline_key).where(
            broadcasts.c.timeline_key.is_not(None)
        )
    ).all()
    for row_id, key in rows:
        connection.execute(
            broadcasts.update()
            .where(broadcasts.c.id == row_id)
            .values(agenda=key.split(":", 1)[0][:60], topic="pemilihan")
        )

    op.create_table(
        "agendas",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("topic", sa.String(length=20), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("awaiting_approval", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_agendas")),
    )
    op.create_table(
        "group_topic_optouts",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=20), nullable=False),
        sa.Column("chosen_by", sa.BigInteger(), nullable=True),
        sa.Column("chosen_at", db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_topic_optouts_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "topic", name=op.f("pk_group_topic_optouts")),
    )


def downgrade() -> None:
    op.drop_table("group_topic_optouts")
    op.drop_table("agendas")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcasts_agenda"))
        batch_op.drop_column("topic")
        batch_op.drop_column("agenda")
