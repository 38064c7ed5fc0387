"""campaigns: outbound campaigns, their contacts, and each tenant's do-not-call list

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "do_not_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_do_not_call_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_do_not_call")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_do_not_call_tenant_id_number")),
    )
    op.create_index(op.f("ix_do_not_call_tenant_id"), "do_not_call", ["tenant_id"], unique=False)
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("spacing_minutes", sa.Integer(), nullable=False),
        sa.Column("abandon_cap", sa.Float(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id", "tenant_id"],
            ["queues.id", "queues.tenant_id"],
            name=op.f("fk_campaigns_queue_id_tenant_id_queues"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaigns_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("id", "tenant_id", name=op.f("uq_campaigns_id_tenant_id")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_campaigns_tenant_id_name")),
    )
    op.create_index(op.f("ix_campaigns_tenant_id"), "campaigns", ["tenant_id"], unique=False)
    op.create_table(
        "campaign_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", _WHEN, nullable=True),
        sa.Column("last_outcome", sa.String(length=20), nullable=True),
        sa.Column("closed_reason", sa.String(length=40), nullable=True),
        sa.Column("next_attempt_at", _WHEN, nullable=True),
        sa.Column("routing_task_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id", "tenant_id"],
            ["campaigns.id", "campaigns.tenant_id"],
            name=op.f("fk_campaign_contacts_campaign_id_tenant_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id", "tenant_id"],
            ["customers.id", "customers.tenant_id"],
            name=op.f("fk_campaign_contacts_customer_id_tenant_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaign_contacts_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_contacts")),
        sa.UniqueConstraint("campaign_id", "number", name=op.f("uq_campaign_contacts_campaign_id_number")),
    )
    op.create_index(
        "ix_campaign_contacts_campaign_status", "campaign_contacts", ["campaign_id", "status", "id"], unique=False
    )
    op.create_index(op.f("ix_campaign_contacts_tenant_id"), "campaign_contacts", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_campaign_contacts_routing_task_id"), "campaign_contacts", ["routing_task_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_contacts_routing_task_id"), table_name="campaign_contacts")
    op.drop_index(op.f("ix_campaign_contacts_tenant_id"), table_name="campaign_contacts")
    op.drop_index("ix_campaign_contacts_campaign_status", table_name="campaign_contacts")
    op.drop_table("campaign_contacts")
    op.drop_index(op.f("ix_campaigns_tenant_id"), table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_index(op.f("ix_do_not_call_tenant_id"), table_name="do_not_call")
    op.drop_table("do_not_call")
