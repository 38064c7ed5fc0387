"""case service levels: the rule a case took, its clocks, and when it must be looked at next

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:42:20.674501
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("sla_check_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_cases_sla_check_at", ["sla_check_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_sla_check_at")
        batch_op.drop_column("sla_check_at")
        batch_op.drop_column("sla")
