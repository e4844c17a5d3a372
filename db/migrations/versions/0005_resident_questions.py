"""resident questions: the officials' inbox (issue 12)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resident_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kelurahan_code", sa.String(length=16), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft", "open", "answered", name="questionstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("asked_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("forwarded_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("answered_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("answered_by", sa.BigInteger(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("intent", sa.String(length=32), nullable=True),
        sa.Column("exported", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["kelurahan_code"],
            ["kelurahan.code"],
            name=op.f("fk_resident_questions_kelurahan_code_kelurahan"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_questions")),
    )
    with op.batch_alter_table("resident_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resident_questions_resident_id"), ["resident_id"], unique=False
        )
        batch_op.create_index(
            "ix_resident_questions_inbox", ["status", "kelurahan_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("resident_questions", schema=None) as batch_op:
        batch_op.drop_index("ix_resident_questions_inbox")
        batch_op.drop_index(batch_op.f("ix_resident_questions_resident_id"))
    op.drop_table("resident_questions")
