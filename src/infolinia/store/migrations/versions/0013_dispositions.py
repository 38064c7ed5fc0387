"""dispositions: what the agent who handled a callback or campaign call set; preview and machine-detection
settings of campaigns

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 06:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("preview_timeout_s", sa.Integer(), nullable=False, server_default="60"))
        batch.add_column(
            sa.Column("preview_timeout_action", sa.String(length=10), nullable=False, server_default="skip")
        )
        batch.add_column(sa.Column("detect_machines", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("campaign_contacts") as batch:
        batch.add_column(sa.Column("last_agent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("disposition", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("preview_until", _WHEN, nullable=True))
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("last_agent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("disposition", sa.String(length=20), nullable=True))
    op.create_table(
        "dispositions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("later_at", _WHEN, nullable=True),
        sa.Column("follow_up_callback_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.CheckConstraint(
            "(callback_id IS NULL) <> (contact_id IS NULL)", name=op.f("ck_dispositions_callback_or_contact")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_dispositions_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["callback_id", "tenant_id"],
            ["callbacks.id", "callbacks.tenant_id"],
            name=op.f("fk_dispositions_callback_id_tenant_id_callbacks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["campaign_contacts.id"],
            name=op.f("fk_dispositions_contact_id_campaign_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id", "tenant_id"],
            ["users.id", "users.tenant_id"],
            name=op.f("fk_dispositions_agent_id_tenant_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispositions")),
    )
    op.create_index(op.f("ix_dispositions_tenant_id"), "dispositions", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_dispositions_callback_id"), "dispositions", ["callback_id"], unique=False)
    op.create_index(op.f("ix_dispositions_contact_id"), "dispositions", ["contact_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dispositions_contact_id"), table_name="dispositions")
    op.drop_index(op.f("ix_dispositions_callback_id"), table_name="dispositions")
    op.drop_index(op.f("ix_dispositions_tenant_id"), table_name="dispositions")
    op.drop_table("dispositions")
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_column("disposition")
        batch.drop_column("last_agent_id")
    with op.batch_alter_table("campaign_contacts") as batch:
        batch.drop_column("preview_until")
        batch.drop_column("disposition")
        batch.drop_column("last_agent_id")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("detect_machines")
        batch.drop_column("preview_timeout_action")
        batch.drop_column("preview_timeout_s")
