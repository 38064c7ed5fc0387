"""agent presence history: every change of an agent's presence with its time, for staffed time and occupancy

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 19:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_presence_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("presence", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id", "tenant_id"],
            ["users.id", "users.tenant_id"],
            name=op.f("fk_agent_presence_changes_agent_id_tenant_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_presence_changes_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_presence_changes")),
    )
    with op.batch_alter_table("agent_presence_changes", schema=None) as batch_op:
        batch_op.create_index("ix_agent_presence_changes_tenant_at", ["tenant_id", "at"], unique=False)
        batch_op.create_index("ix_agent_presence_changes_agent_at", ["agent_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agent_presence_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_presence_changes_agent_at")
        batch_op.drop_index("ix_agent_presence_changes_tenant_at")
    op.drop_table("agent_presence_changes")
