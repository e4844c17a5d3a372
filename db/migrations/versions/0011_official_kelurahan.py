"""officials scoped to a kelurahan (lurah); scheduled pre-flight runs; acknowledgement escalation

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ack_chain", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("officials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kelurahan_code", sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_officials_kelurahan_code_kelurahan"),
            "kelurahan",
            ["kelurahan_code"],
            ["code"],
        )
    with op.batch_alter_table("official_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kelurahan_code", sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_official_requests_kelurahan_code_kelurahan"),
            "kelurahan",
            ["kelurahan_code"],
            ["code"],
        )
    op.create_table(
        "preflight_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=40), nullable=False),
        sa.Column("due_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("started_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("run_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("retry_after", sa.Integer(), nullable=False),
        sa.Column("reported_to", sa.Integer(), nullable=True),
        sa.Column("reported_at", db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preflight_runs")),
        sa.UniqueConstraint("slot", name=op.f("uq_preflight_runs_slot")),
    )
    op.create_table(
        "escalation_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("notified", sa.Integer(), nullable=False),
        sa.Column("at", db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_escalation_steps_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_escalation_steps_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_steps")),
        sa.UniqueConstraint(
            "broadcast_id", "step", "group_id", name=op.f("uq_escalation_steps_broadcast_id_step_group_id")
        ),
    )
    with op.batch_alter_table("escalation_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalation_steps_broadcast_id"), ["broadcast_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("escalation_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_steps_broadcast_id"))
    op.drop_table("escalation_steps")
    op.drop_table("preflight_runs")
    with op.batch_alter_table("official_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_official_requests_kelurahan_code_kelurahan"), type_="foreignkey"
        )
        batch_op.drop_column("kelurahan_code")
    with op.batch_alter_table("officials", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_officials_kelurahan_code_kelurahan"), type_="foreignkey"
        )
        batch_op.drop_column("kelurahan_code")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_column("ack_chain")
