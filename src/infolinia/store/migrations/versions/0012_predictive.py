"""predictive: the attempts of customer-first (predictive) dialing, from which the abandon rate is counted

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("answered_at", _WHEN, nullable=True),
        sa.Column("connected_at", _WHEN, nullable=True),
        sa.Column("ended_at", _WHEN, nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id", "tenant_id"],
            ["campaigns.id", "campaigns.tenant_id"],
            name=op.f("fk_campaign_attempts_campaign_id_tenant_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["campaign_contacts.id"],
            name=op.f("fk_campaign_attempts_contact_id_campaign_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaign_attempts_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_attempts")),
    )
    op.create_index(
        "ix_campaign_attempts_campaign_started", "campaign_attempts", ["campaign_id", "started_at"], unique=False
    )
    op.create_index(op.f("ix_campaign_attempts_tenant_id"), "campaign_attempts", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_attempts_tenant_id"), table_name="campaign_attempts")
    op.drop_index("ix_campaign_attempts_campaign_started", table_name="campaign_attempts")
    op.drop_table("campaign_attempts")
