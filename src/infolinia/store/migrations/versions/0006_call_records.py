"""call records: an interaction's IVR path, recording, how it ended, and its SIP Call-ID

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ivr_path", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("recording", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("end_reason", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("sip_call_id", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_column("sip_call_id")
        batch_op.drop_column("end_reason")
        batch_op.drop_column("recording")
        batch_op.drop_column("ivr_path")
