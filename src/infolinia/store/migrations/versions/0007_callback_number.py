"""callback number: the number a callback task calls, as the caller confirmed it on the phone (E.164)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("routing_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_number", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routing_tasks", schema=None) as batch_op:
        batch_op.drop_column("callback_number")
