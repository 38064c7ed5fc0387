"""agent scripts: a tenant's step-by-step guides for agents (steps, placeholders, attachments to queues, IVR
choices and case categories, a version counting the changes) and the runs agents recorded on contacts

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 16:03:34.319499
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_scripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_scripts_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_scripts")),
        sa.UniqueConstraint("id", "tenant_id", name=op.f("uq_agent_scripts_id_tenant_id")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_agent_scripts_tenant_id_name")),
    )
    with op.batch_alter_table("agent_scripts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_scripts_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "agent_script_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=False),
        sa.Column("script_id", sa.Integer(), nullable=True),
        sa.Column("script_name", sa.String(length=100), nullable=False),
        sa.Column("script_version", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id", "tenant_id"],
            ["users.id", "users.tenant_id"],
            name=op.f("fk_agent_script_runs_agent_id_tenant_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id", "tenant_id"],
            ["interactions.id", "interactions.tenant_id"],
            name=op.f("fk_agent_script_runs_interaction_id_tenant_id_interactions"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_script_runs_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_script_runs")),
    )
    with op.batch_alter_table("agent_script_runs", schema=None) as batch_op:
        batch_op.create_index("ix_agent_script_runs_interaction", ["interaction_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agent_script_runs_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agent_script_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_script_runs_tenant_id"))
        batch_op.drop_index("ix_agent_script_runs_interaction")

    op.drop_table("agent_script_runs")
    with op.batch_alter_table("agent_scripts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_scripts_tenant_id"))

    op.drop_table("agent_scripts")
