"""acknowledgements keep the user id and admin flag, not the name

The name was never read or exported; UU 27/2022 asks to store only what a purpose needs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite rebuilds the table (it cannot drop a column in place on old versions).
    with op.batch_alter_table("acknowledgements", schema=None) as batch_op:
        batch_op.drop_column("user_name")


def downgrade() -> None:
    with op.batch_alter_table("acknowledgements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("user_name", sa.String(length=255), nullable=False, server_default="")
        )
