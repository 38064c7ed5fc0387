"""kb article embeddings: each article's sentence embedding for semantic search (384 float32, or none while the
model is off or has not seen it) and the key of the model and text it was made from, so that ``kb reindex`` and the
server's start fill in missing and stale ones. Plain ALTER TABLE on both databases (SQLite 3.35+ drops columns
itself): rebuilding ``kb_articles`` on SQLite would lose the full-text triggers of 0017.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 16:33:24.809863
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("kb_articles", sa.Column("embedding", sa.LargeBinary(), nullable=True))
    op.add_column("kb_articles", sa.Column("embedding_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE kb_articles DROP COLUMN embedding_key")
    op.execute("ALTER TABLE kb_articles DROP COLUMN embedding")
