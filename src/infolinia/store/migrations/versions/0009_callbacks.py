"""callbacks: the promised calls to customers, and each tenant's callback policy

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("requested_at", _WHEN, nullable=False),
        sa.Column("due_at", _WHEN, nullable=False),
        sa.Column("not_before", _WHEN, nullable=False),
        sa.Column("keep_by", _WHEN, nullable=False),
        sa.Column("personal_agent_id", sa.Integer(), nullable=True),
        sa.Column("personal_until", _WHEN, nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_outcome", sa.String(length=20), nullable=True),
        sa.Column("next_attempt_at", _WHEN, nullable=True),
        sa.Column("first_attempt_at", _WHEN, nullable=True),
        sa.Column("promise_kept", sa.Boolean(), nullable=True),
        sa.Column("routing_task_id", sa.Integer(), nullable=True),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id", "tenant_id"],
            ["customers.id", "customers.tenant_id"],
            name=op.f("fk_callbacks_customer_id_tenant_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id", "tenant_id"],
            ["interactions.id", "interactions.tenant_id"],
            name=op.f("fk_callbacks_interaction_id_tenant_id_interactions"),
        ),
        sa.ForeignKeyConstraint(
            ["personal_agent_id", "tenant_id"],
            ["users.id", "users.tenant_id"],
            name=op.f("fk_callbacks_personal_agent_id_tenant_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["queue_id", "tenant_id"],
            ["queues.id", "queues.tenant_id"],
            name=op.f("fk_callbacks_queue_id_tenant_id_queues"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_callbacks_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
        sa.UniqueConstraint("id", "tenant_id", name=op.f("uq_callbacks_id_tenant_id")),
    )
    op.create_index("ix_callbacks_open_keep_by", "callbacks", ["status", "keep_by"], unique=False)
    op.create_index(op.f("ix_callbacks_routing_task_id"), "callbacks", ["routing_task_id"], unique=False)
    op.create_index(op.f("ix_callbacks_tenant_id"), "callbacks", ["tenant_id"], unique=False)
    op.create_index("ix_callbacks_tenant_status_due", "callbacks", ["tenant_id", "status", "due_at"], unique=False)
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_policy", sa.JSON(), server_default="{}", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("callback_policy")
    op.drop_index("ix_callbacks_tenant_status_due", table_name="callbacks")
    op.drop_index(op.f("ix_callbacks_tenant_id"), table_name="callbacks")
    op.drop_index(op.f("ix_callbacks_routing_task_id"), table_name="callbacks")
    op.drop_index("ix_callbacks_open_keep_by", table_name="callbacks")
    op.drop_table("callbacks")
