"""wrap-up codes: each queue's list of codes (label, outcome class, active, order) and whether one is required at
the end of wrap-up; the tenant's first-contact-resolution repeat window; interactions indexed by customer and time
for finding repeat contacts

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 16:03:23.176827
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wrapup_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id", "tenant_id"],
            ["queues.id", "queues.tenant_id"],
            name=op.f("fk_wrapup_codes_queue_id_tenant_id_queues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_wrapup_codes_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wrapup_codes")),
        sa.UniqueConstraint("queue_id", "code", name=op.f("uq_wrapup_codes_queue_id_code")),
    )
    with op.batch_alter_table("wrapup_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wrapup_codes_tenant_id"), ["tenant_id"], unique=False)

    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interactions_tenant_customer"))
        batch_op.create_index(
            "ix_interactions_tenant_customer_created", ["tenant_id", "customer_id", "created_at"], unique=False
        )

    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wrapup_code_required", sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fcr_window_days", sa.Integer(), server_default="7", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("fcr_window_days")

    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("wrapup_code_required")

    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_tenant_customer_created")
        batch_op.create_index(batch_op.f("ix_interactions_tenant_customer"), ["tenant_id", "customer_id"], unique=False)

    with op.batch_alter_table("wrapup_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wrapup_codes_tenant_id"))

    op.drop_table("wrapup_codes")
