"""routing rules: the rest of a queue's rules, agents' capacity, when a task was assigned

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:10:00.000000

Queues that exist before this revision get ``business_hours`` false: they stay always open, as they were. Queues
created afterwards follow the tenant's business hours unless told otherwise.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAPACITY = (("voice", "1"), ("callback", "1"), ("chat", "3"), ("email", "5"), ("case", "5"))


def upgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("missed_offer_presence", sa.String(length=20), server_default="break", nullable=False)
        )
        batch_op.add_column(sa.Column("short_abandon_s", sa.Float(), server_default="5", nullable=False))
        batch_op.add_column(sa.Column("closed_action", sa.String(length=40), server_default="closed", nullable=False))
        batch_op.add_column(sa.Column("overflow", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("business_hours", sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table("agent_profiles", schema=None) as batch_op:
        for channel, default in CAPACITY:
            batch_op.add_column(sa.Column(f"capacity_{channel}", sa.Integer(), server_default=default, nullable=False))
        batch_op.add_column(sa.Column("voice_exclusive", sa.Boolean(), server_default=sa.true(), nullable=False))

    with op.batch_alter_table("routing_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routing_tasks", schema=None) as batch_op:
        batch_op.drop_column("assigned_at")

    with op.batch_alter_table("agent_profiles", schema=None) as batch_op:
        batch_op.drop_column("voice_exclusive")
        for channel, _default in reversed(CAPACITY):
            batch_op.drop_column(f"capacity_{channel}")

    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("business_hours")
        batch_op.drop_column("overflow")
        batch_op.drop_column("closed_action")
        batch_op.drop_column("short_abandon_s")
        batch_op.drop_column("missed_offer_presence")
