"""the scheduled pre-flight's report recorded per official (re-sent to nobody after a crash)

Revision ID: 0016
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0016"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "preflight_reports",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("at", db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["preflight_runs.id"],
            name=op.f("fk_preflight_reports_run_id_preflight_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "user_id", name=op.f("pk_preflight_reports")),
    )


def downgrade() -> None:
    op.drop_table("preflight_reports")
