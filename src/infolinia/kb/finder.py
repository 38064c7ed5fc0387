"""One knowledge-base search in any of its modes: ``text`` (full text, ``kb.search.full_text``), ``semantic``
(meaning, ``kb.search.semantic``) or ``hybrid`` (both, by reciprocal rank fusion, ``kb.ranking.fuse``). Without a
mode: hybrid when the model is ready, else text. An empty query lists the latest changed articles in every mode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.errors import Conflict
from infolinia.kb import search, semantic
from infolinia.kb.ranking import Match, fuse
from infolinia.kb.semantic import Embedder
from infolinia.store.models import KbArticle

Mode = Literal["text", "semantic", "hybrid"]


@dataclass(frozen=True)
class Hit:
    article: KbArticle
    #: full text: the database's rank; semantic: cosine similarity; hybrid: the fused score
    score: float
    match: Match


@dataclass(frozen=True)
class Found:
    hits: list[Hit]
    #: whether the ranking by meaning took part
    semantic: bool


def unavailable(embedder: Embedder | None) -> Conflict:
    state = embedder.state if embedder is not None else "off"
    return Conflict(f"semantic search is not available (model {state})", code="semantic_unavailable",
                    details={"state": state})  # fmt: skip


async def find(
    session: AsyncSession,
    embedder: Embedder | None,
    f: search.Filters,
    query: str,
    terms: Sequence[Sequence[str]],
    mode: Mode | None,
    limit: int,
) -> Found:
    """The best ``limit`` articles for ``query`` (its stemmed ``terms`` for the full text). Asking for ``semantic``
    or ``hybrid`` while the model is not ready: 409 ``semantic_unavailable``."""
    ready = embedder is not None and embedder.ready
    if mode in ("semantic", "hybrid") and not ready:
        raise unavailable(embedder)
    mode = mode or ("hybrid" if ready else "text")
    if not query.strip():
        latest = await search.full_text(session, f, [], limit)
        return Found([Hit(article, score, "text") for article, score in latest], False)
    by_text = await search.full_text(session, f, terms, limit) if terms and mode != "semantic" else []
    if mode == "text" or embedder is None:
        return Found([Hit(article, score, "text") for article, score in by_text], False)
    vectors = await embedder.embed([query])
    if vectors is None:
        raise unavailable(embedder)
    by_meaning = await search.semantic(session, f, vectors[0], limit, semantic.MIN_SIMILARITY)
    if mode == "semantic":
        return Found([Hit(article, score, "semantic") for article, score in by_meaning], True)
    articles = {article.id: article for article, _ in (*by_text, *by_meaning)}
    fused = fuse([a.id for a, _ in by_text], [a.id for a, _ in by_meaning], limit)
    return Found([Hit(articles[hit.id], hit.score, hit.match) for hit in fused], True)
