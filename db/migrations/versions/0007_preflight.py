"""pre-flight checks: what each run found for each group

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('preflight_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('migrated_from_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('outcome', sa.Enum('ok', 'kicked', 'left', 'not_found', 'cannot_send', 'unknown', name='reachoutcome', native_enum=False, length=20), nullable=False),
    sa.Column('detail', sa.String(length=255), nullable=False),
    sa.Column('checked_at', db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_preflight_checks_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preflight_checks'))
    )
    with op.batch_alter_table('preflight_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preflight_checks_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_preflight_checks_run_at'), ['run_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('preflight_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preflight_checks_run_at'))
        batch_op.drop_index(batch_op.f('ix_preflight_checks_group_id'))
    op.drop_table('preflight_checks')
