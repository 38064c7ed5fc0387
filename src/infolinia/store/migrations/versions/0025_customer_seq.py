"""a per-tenant counter for automatic customer numbers, so two customers created at once never share one

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 23:00:00.000000
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUTOMATIC = re.compile(r"C(\d{6,9})")


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_seq", sa.Integer(), server_default="0", nullable=False))
    # start each tenant's counter after the highest automatic number it has (and at least at its number of
    # customers, which is where the old count-based numbering would have gone on)
    bind = op.get_bind()
    start: dict[int, int] = {}
    for tenant_id, number in bind.execute(sa.text("SELECT tenant_id, number FROM customers")):
        found = _AUTOMATIC.fullmatch(number or "")
        start[tenant_id] = max(start.get(tenant_id, 0), int(found.group(1)) if found else 0)
    counts = bind.execute(sa.text("SELECT tenant_id, COUNT(*) FROM customers GROUP BY tenant_id"))
    for tenant_id, count in counts:
        start[tenant_id] = max(start.get(tenant_id, 0), int(count))
    for tenant_id, seq in start.items():
        bind.execute(sa.text("UPDATE tenants SET customer_seq = :seq WHERE id = :id"), {"seq": seq, "id": tenant_id})


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("customer_seq")
