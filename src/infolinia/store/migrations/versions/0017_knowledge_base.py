"""knowledge base: categories, articles per language with their versions, and the full-text index of their
stemmed words (SQLite: an FTS5 table kept by triggers; PostgreSQL: a GIN index on their weighted tsvector)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 16:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kb_categories_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_categories")),
        sa.UniqueConstraint("id", "tenant_id", name=op.f("uq_kb_categories_id_tenant_id")),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f("uq_kb_categories_tenant_id_slug")),
    )
    with op.batch_alter_table("kb_categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_categories_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("search_title", sa.Text(), nullable=False),
        sa.Column("search_body", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id", "tenant_id"],
            ["kb_categories.id", "kb_categories.tenant_id"],
            name=op.f("fk_kb_articles_category_id_tenant_id_kb_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kb_articles_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("id", "tenant_id", name=op.f("uq_kb_articles_id_tenant_id")),
        sa.UniqueConstraint("tenant_id", "language", "slug", name=op.f("uq_kb_articles_tenant_id_language_slug")),
    )
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_articles_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_kb_articles_tenant_status", ["tenant_id", "status", "visibility"], unique=False)
    _create_search_index()

    op.create_table(
        "kb_article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id", "tenant_id"],
            ["kb_articles.id", "kb_articles.tenant_id"],
            name=op.f("fk_kb_article_versions_article_id_tenant_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kb_article_versions_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_versions")),
        sa.UniqueConstraint("article_id", "version", name=op.f("uq_kb_article_versions_article_id_version")),
    )
    with op.batch_alter_table("kb_article_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_article_versions_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kb_article_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_article_versions_tenant_id"))

    op.drop_table("kb_article_versions")
    _drop_search_index()
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_articles_tenant_status")
        batch_op.drop_index(batch_op.f("ix_kb_articles_tenant_id"))

    op.drop_table("kb_articles")
    with op.batch_alter_table("kb_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_categories_tenant_id"))

    op.drop_table("kb_categories")


_SQLITE_INDEX = (
    "CREATE VIRTUAL TABLE kb_search USING fts5(title, body, tokenize='unicode61')",
    "CREATE TRIGGER kb_search_insert AFTER INSERT ON kb_articles BEGIN"
    " INSERT INTO kb_search (rowid, title, body) VALUES (new.id, new.search_title, new.search_body); END",
    "CREATE TRIGGER kb_search_update AFTER UPDATE OF search_title, search_body ON kb_articles BEGIN"
    " UPDATE kb_search SET title = new.search_title, body = new.search_body WHERE rowid = new.id; END",
    "CREATE TRIGGER kb_search_delete AFTER DELETE ON kb_articles BEGIN DELETE FROM kb_search WHERE rowid = old.id; END",
)
_PG_INDEX = (
    "CREATE INDEX ix_kb_articles_search ON kb_articles USING gin ("
    "(setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, search_body), 'B')))"
)


def _create_search_index() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_INDEX)
    else:
        for statement in _SQLITE_INDEX:
            op.execute(statement)


def _drop_search_index() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_kb_articles_search")
    else:
        for trigger in ("kb_search_insert", "kb_search_update", "kb_search_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS kb_search")
