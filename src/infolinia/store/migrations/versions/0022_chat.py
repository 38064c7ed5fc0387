"""web chat: chats (a customer's token kept as its SHA-256), their lines numbered per sender with the sender's
client ids (a line sent again is stored once), the files sent in them, and the tenant's chat settings

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 19:33:31.402517
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.Column("queue_id", sa.Integer(), nullable=True),
        sa.Column("routing_task_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id", "tenant_id"],
            ["users.id", "users.tenant_id"],
            name=op.f("fk_chat_sessions_agent_id_tenant_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id", "tenant_id"],
            ["customers.id", "customers.tenant_id"],
            name=op.f("fk_chat_sessions_customer_id_tenant_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id", "tenant_id"],
            ["interactions.id", "interactions.tenant_id"],
            name=op.f("fk_chat_sessions_interaction_id_tenant_id_interactions"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_chat_sessions_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sessions")),
        sa.UniqueConstraint("id", "tenant_id", name=op.f("uq_chat_sessions_id_tenant_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_chat_sessions_token_hash")),
    )
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_chat_sessions_status", ["tenant_id", "status", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_sessions_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "chat_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id", "tenant_id"],
            ["chat_sessions.id", "chat_sessions.tenant_id"],
            name=op.f("fk_chat_files_chat_id_tenant_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_files")),
        sa.UniqueConstraint("id", "tenant_id", name=op.f("uq_chat_files_id_tenant_id")),
    )
    with op.batch_alter_table("chat_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_files_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_files_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=10), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id", "tenant_id"],
            ["chat_sessions.id", "chat_sessions.tenant_id"],
            name=op.f("fk_chat_messages_chat_id_tenant_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
        sa.UniqueConstraint("chat_id", "sender", "client_id", name=op.f("uq_chat_messages_chat_id_sender_client_id")),
        sa.UniqueConstraint("chat_id", "sender", "seq", name=op.f("uq_chat_messages_chat_id_sender_seq")),
    )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_settings", sa.JSON(), server_default="{}", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("chat_settings")

    op.drop_table("chat_messages")
    with op.batch_alter_table("chat_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_files_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_chat_files_chat_id"))

    op.drop_table("chat_files")
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_sessions_tenant_id"))
        batch_op.drop_index("ix_chat_sessions_status")

    op.drop_table("chat_sessions")
