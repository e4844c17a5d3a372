"""flow state: multi-step flows (/daftar, /siaran, …) kept in the database

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flow_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("expires_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_states")),
        sa.UniqueConstraint(
            "kind", "chat_id", "user_id", name=op.f("uq_flow_states_kind_chat_id_user_id")
        ),
    )
    with op.batch_alter_table("flow_states", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_flow_states_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("flow_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_states_expires_at"))
    op.drop_table("flow_states")
