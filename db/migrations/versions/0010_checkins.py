"""checkins: a broadcast's check-in, every answer pressed, reports opened, no-answer lists sent

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0010"
# The lead re-chains when merging (another branch takes 0009).
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkin", sa.JSON(), nullable=True))

    op.create_table(
        "checkin_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.String(length=12), nullable=False),
        sa.Column("pressed_at", db.types.UTCDateTime(), nullable=False),
        _fk("checkin_answers", "broadcast_id", "broadcasts"),
        _fk("checkin_answers", "group_id", "groups"),
        _fk("checkin_answers", "delivery_id", "deliveries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_answers")),
    )
    with op.batch_alter_table("checkin_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_checkin_answers_broadcast_group", ["broadcast_id", "group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_checkin_answers_group_id"), ["group_id"], unique=False
        )

    op.create_table(
        "checkin_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=True),
        sa.Column("answer", sa.String(length=12), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("report_ref", sa.String(length=40), nullable=True),
        sa.Column("opened_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("described_at", db.types.UTCDateTime(), nullable=True),
        _fk("checkin_followups", "broadcast_id", "broadcasts"),
        _fk("checkin_followups", "group_id", "groups"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_followups")),
        sa.UniqueConstraint(
            "broadcast_id", "group_id", name=op.f("uq_checkin_followups_broadcast_id_group_id")
        ),
    )
    with op.batch_alter_table("checkin_followups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checkin_followups_group_id"), ["group_id"], unique=False
        )

    op.create_table(
        "checkin_silences",
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("silent_groups", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("listed_at", db.types.UTCDateTime(), nullable=False),
        _fk("checkin_silences", "broadcast_id", "broadcasts"),
        sa.PrimaryKeyConstraint("broadcast_id", name=op.f("pk_checkin_silences")),
    )


def downgrade() -> None:
    op.drop_table("checkin_silences")
    op.drop_table("checkin_followups")
    op.drop_table("checkin_answers")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_column("checkin")
