"""field reports: cases, reports, case events, posko groups (issue 13)

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = sa.Enum(
    "baru", "ditangani", "selesai", "dirujuk", name="casestatus", native_enum=False, length=20
)


def upgrade() -> None:
    op.create_table(
        "field_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=16), nullable=True),
        sa.Column("kelurahan_code", sa.String(length=16), nullable=True),
        sa.Column("rw", sa.Integer(), nullable=True),
        sa.Column("rt", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("tps", sa.String(length=8), nullable=True),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("assigned_to", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("opened_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("last_report_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("escalated_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("relisted_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("posko_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("posko_message_id", sa.BigInteger(), nullable=True),
        sa.Column("posko_digest", sa.Boolean(), nullable=False),
        sa.Column("posted_at", db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_cases")),
    )
    with op.batch_alter_table("field_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_field_cases_kecamatan_code"), ["kecamatan_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_field_cases_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_field_cases_place",
            ["kelurahan_code", "rw", "rt", "category", "last_report_at"],
            unique=False,
        )

    op.create_table(
        "field_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("kecamatan_code", sa.String(length=16), nullable=True),
        sa.Column("kelurahan_code", sa.String(length=16), nullable=True),
        sa.Column("rw", sa.Integer(), nullable=True),
        sa.Column("rt", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=20), nullable=True),
        sa.Column("tps", sa.String(length=8), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("reporter_id", sa.BigInteger(), nullable=True),
        sa.Column("source_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["field_cases.id"],
            name=op.f("fk_field_reports_case_id_field_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_field_reports_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_reports")),
    )
    with op.batch_alter_table("field_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_field_reports_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_field_reports_reporter_id"), ["reporter_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_field_reports_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "field_case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", db.types.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["field_cases.id"],
            name=op.f("fk_field_case_events_case_id_field_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_case_events")),
    )
    with op.batch_alter_table("field_case_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_field_case_events_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "posko_groups",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=16), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("set_by", sa.BigInteger(), nullable=False),
        sa.Column("set_at", db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_posko_groups")),
    )


def downgrade() -> None:
    op.drop_table("posko_groups")
    op.drop_table("field_case_events")
    op.drop_table("field_reports")
    op.drop_table("field_cases")
