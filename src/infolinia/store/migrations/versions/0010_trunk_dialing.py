"""trunk dialing: where a trunk sends calls to customers, and the number they see

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trunks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dial_to", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("caller_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trunks", schema=None) as batch_op:
        batch_op.drop_column("caller_id")
        batch_op.drop_column("dial_to")
