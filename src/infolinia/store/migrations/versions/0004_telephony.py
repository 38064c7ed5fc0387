"""telephony: IVR flows, phone numbers, trunks, and the tenant's record_calls setting

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:51:06.921768

New tables only, and one column with a default (calls are not recorded unless a tenant turns it on): existing rows
are untouched.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ivr_flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ivr_flows_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_flows")),
        sa.UniqueConstraint("id", "tenant_id", name=op.f("uq_ivr_flows_id_tenant_id")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_ivr_flows_tenant_id_name")),
    )
    with op.batch_alter_table("ivr_flows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ivr_flows_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "trunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("allowed_sources", sa.JSON(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("ha1_md5", sa.String(length=32), nullable=True),
        sa.Column("ha1_sha256", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "username IS NULL OR (ha1_md5 IS NOT NULL AND ha1_sha256 IS NOT NULL)",
            name=op.f("ck_trunks_credentials_complete"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_trunks_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trunks")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_trunks_tenant_id_name")),
        sa.UniqueConstraint("username", name=op.f("uq_trunks_username")),
    )
    with op.batch_alter_table("trunks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trunks_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "phone_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("national", sa.String(length=15), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=True),
        sa.Column("answer_after_s", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("answer_after_s >= 0", name=op.f("ck_phone_numbers_answer_after_s_not_negative")),
        sa.ForeignKeyConstraint(
            ["flow_id", "tenant_id"],
            ["ivr_flows.id", "ivr_flows.tenant_id"],
            name=op.f("fk_phone_numbers_flow_id_tenant_id_ivr_flows"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_phone_numbers_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_numbers")),
        sa.UniqueConstraint("e164", name=op.f("uq_phone_numbers_e164")),
    )
    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_phone_numbers_flow_id"), ["flow_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_phone_numbers_national"), ["national"], unique=False)
        batch_op.create_index(batch_op.f("ix_phone_numbers_tenant_id"), ["tenant_id"], unique=False)

    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("record_calls", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("record_calls")

    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_numbers_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_phone_numbers_national"))
        batch_op.drop_index(batch_op.f("ix_phone_numbers_flow_id"))

    op.drop_table("phone_numbers")
    with op.batch_alter_table("trunks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trunks_tenant_id"))

    op.drop_table("trunks")
    with op.batch_alter_table("ivr_flows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ivr_flows_tenant_id"))

    op.drop_table("ivr_flows")
