"""official authority: root admins, approver provenance, pending official requests, audit indexes

Revision ID: 0004
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("officials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("root", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("approver_since", db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("approver_proposed_by", sa.BigInteger(), nullable=True))
    # Existing admins have been approvers since they were added.
    op.execute("UPDATE officials SET approver_since = added_at WHERE role = 'admin'")

    op.create_table(
        "official_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum("grant", "remove", name="requestaction", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "role",
            sa.Enum("admin", "operator", name="officialrole", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("kecamatan_code", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", db.types.UTCDateTime(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "approved", "rejected", "expired",
                name="requeststatus", native_enum=False, length=20,
            ),
            nullable=False,
        ),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["kecamatan_code"],
            ["kecamatan.code"],
            name=op.f("fk_official_requests_kecamatan_code_kecamatan"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official_requests")),
    )
    with op.batch_alter_table("official_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_official_requests_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_official_requests_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_target"), ["target"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_target"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor_id"))
    with op.batch_alter_table("official_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_official_requests_user_id"))
        batch_op.drop_index(batch_op.f("ix_official_requests_status"))
    op.drop_table("official_requests")
    with op.batch_alter_table("officials", schema=None) as batch_op:
        batch_op.drop_column("approver_proposed_by")
        batch_op.drop_column("approver_since")
        batch_op.drop_column("root")
