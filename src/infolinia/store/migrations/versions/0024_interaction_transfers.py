"""interaction transfers: when an agent handed a contact on, and the interaction a transferred contact continues

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 22:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transferred_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("transferred_from_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_interactions_transferred_from_id_tenant_id_interactions"),
            "interactions",
            ["transferred_from_id", "tenant_id"],
            ["id", "tenant_id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_interactions_transferred_from_id_tenant_id_interactions"), type_="foreignkey"
        )
        batch_op.drop_column("transferred_from_id")
        batch_op.drop_column("transferred_at")
