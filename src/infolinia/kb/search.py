"""Full-text search of a tenant's articles: the same stemmed words (``kb.text``) through each database's own index.

- SQLite: the FTS5 table ``kb_search`` (rowid = article id, kept equal to ``kb_articles.search_title`` /
  ``search_body`` by triggers, migration 0017), ranked by BM25 with the title weighing 5 times the body.
- PostgreSQL: a GIN index on ``setweight(to_tsvector('simple', search_title), 'A') ||
  setweight(to_tsvector('simple', search_body), 'B')``, ranked by ``ts_rank`` of the same expression.

Scores are "higher is better" on both (BM25's sign turned), comparable within one search only.

Semantic search (``semantic``) reads the stored embeddings of the articles the filters allow, in one query, and
ranks them by cosine similarity to the query's (``kb.ranking``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Float, Integer, Select, column, func, literal_column, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from infolinia.kb import ranking
from infolinia.kb import text as kbtext
from infolinia.kb.ranking import Vector
from infolinia.store.models import KbArticle

#: the PostgreSQL index expression (migration 0017 creates the index on exactly this)
PG_VECTOR = (
    "(setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, search_body), 'B'))"
)
FTS_TABLE = "kb_search"
_FTS = table(FTS_TABLE, column("rowid", Integer))
Query = TypeVar("Query", Select[KbArticle, float], Select[int, bytes | None])


@dataclass(frozen=True)
class Filters:
    """Which articles a search may return."""

    tenant_id: int
    languages: Sequence[str] = ()  # empty: any
    visibility: str | None = None  # internal or public (the help page's search); None: both
    statuses: Sequence[str] = ("published",)
    category_id: int | None = None


def _where(query: Query, f: Filters) -> Query:
    conditions: list[ColumnElement[bool]] = [KbArticle.tenant_id == f.tenant_id, KbArticle.status.in_(f.statuses)]
    if f.languages:
        conditions.append(KbArticle.language.in_(f.languages))
    if f.visibility is not None:
        conditions.append(KbArticle.visibility == f.visibility)
    if f.category_id is not None:
        conditions.append(KbArticle.category_id == f.category_id)
    return query.where(*conditions)


async def full_text(
    session: AsyncSession, f: Filters, terms: Sequence[Sequence[str]], limit: int, prefix_last: bool = True
) -> list[tuple[KbArticle, float]]:
    """The best ``limit`` articles in which every query word is found (title or body), best first; with no words,
    the latest changed (score 0)."""
    score: ColumnElement[float]
    if not terms:
        score = literal_column("0.0", Float).label("score")
        query = select(KbArticle, score)
        query = _where(query, f).order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(limit)
        return [(article, float(value)) for article, value in (await session.execute(query)).all()]
    if session.get_bind().dialect.name == "postgresql":
        vector: ColumnElement[Any] = literal_column(PG_VECTOR)
        tsq = func.to_tsquery(literal_column("'simple'::regconfig"), kbtext.tsquery(terms, prefix_last))
        score = func.ts_rank(vector, tsq, type_=Float).label("score")
        query = select(KbArticle, score).where(vector.op("@@")(tsq))
    else:
        score = literal_column(f"-bm25({FTS_TABLE}, 5.0, 1.0)", Float).label("score")
        query = (
            select(KbArticle, score)
            .join(_FTS, _FTS.c.rowid == KbArticle.id)
            .where(literal_column(FTS_TABLE).op("MATCH")(kbtext.fts5_query(terms, prefix_last)))
        )
    query = _where(query, f).order_by(literal_column("score").desc(), KbArticle.id).limit(limit)
    rows = (await session.execute(query)).all()
    return [(article, float(score)) for article, score in rows]


async def semantic(
    session: AsyncSession, f: Filters, query: Vector, limit: int, minimum: float
) -> list[tuple[KbArticle, float]]:
    """The ``limit`` articles with an embedding most similar in meaning to ``query`` (a unit vector), at least
    ``minimum`` (cosine similarity), most similar first."""
    dimensions = query.shape[0]
    rows = (await session.execute(
        _where(select(KbArticle.id, KbArticle.embedding), f).where(KbArticle.embedding.is_not(None))
    )).all()  # fmt: skip
    ids: list[int] = []
    blobs: list[bytes] = []
    for id_, blob in rows:
        if blob is not None and ranking.from_bytes(blob, dimensions) is not None:
            ids.append(id_)
            blobs.append(blob)
    matrix = np.frombuffer(b"".join(blobs), dtype=ranking.DTYPE).reshape(len(ids), dimensions)
    best = ranking.nearest(ids, matrix, query, minimum, limit)
    if not best:
        return []
    articles = {a.id: a for a in await session.scalars(select(KbArticle).where(KbArticle.id.in_([i for i, _ in best])))}
    return [(articles[id_], score) for id_, score in best if id_ in articles]
