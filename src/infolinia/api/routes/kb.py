"""The knowledge base (``kb/``): categories, articles with their versions, and search. Everyone in the tenant reads
and searches published articles (internal and public); supervisors and admins (``kb.manage``) also see drafts and
archived ones, and write. Saving an article embeds it (``kb.semantic``) when the model is ready."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select

from infolinia.access import can
from infolinia.api.deps import Access, access
from infolinia.errors import Forbidden, NotFound
from infolinia.kb import actions, finder, markup, search, text
from infolinia.kb.schemas import (
    ArticleDetail,
    ArticleIn,
    ArticleOut,
    ArticlePatch,
    ArticleRestoreIn,
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    SearchHit,
    SearchOut,
    Status,
    VersionOut,
    Visibility,
)
from infolinia.kb.semantic import Embedder
from infolinia.schemas import Cursor, Id, Language, Page
from infolinia.store.models import KbArticle, KbArticleVersion, KbCategory

router = APIRouter(tags=["knowledge base"])


def _detail(article: KbArticle) -> ArticleDetail:
    return ArticleDetail(**ArticleOut.model_validate(article).model_dump(), body=article.body,
                         html=markup.to_html(article.body))  # fmt: skip


def _embedder(a: Access) -> Embedder:
    embedder: Embedder = a.request.app.state.ctx.semantic
    return embedder


def _readable(a: Access, article: KbArticle) -> KbArticle:
    """Drafts and archived articles are the editors' only: 404 for everyone else."""
    if article.status != "published" and not can(a.actor, "kb.manage"):
        raise NotFound(f"no article {article.id}")
    return article


# --- categories ------------------------------------------------------------------------------------------------


@router.get("/kb/categories", response_model=list[CategoryOut])
async def list_categories(a: Access = Depends(access("kb.read"))) -> list[CategoryOut]:
    """The tenant's categories, in their order."""
    rows = await a.session.scalars(
        select(KbCategory).where(KbCategory.tenant_id == a.tenant.id).order_by(KbCategory.position, KbCategory.id)
    )
    return [CategoryOut.model_validate(row) for row in rows]


@router.post("/kb/categories", response_model=CategoryOut, status_code=201)
async def create_category(body: CategoryIn, a: Access = Depends(access("kb.manage"))) -> CategoryOut:
    async with a.write() as tx:
        category = await actions.create_category(tx, a.tenant.id, body)
    return CategoryOut.model_validate(category)


@router.patch("/kb/categories/{category_id}", response_model=CategoryOut)
async def update_category(body: CategoryPatch, a: Access = Depends(access("kb.manage"))) -> CategoryOut:
    async with a.write() as tx:
        category = await actions.update_category(tx, a.obj("category_id"), body)
    return CategoryOut.model_validate(category)


@router.delete("/kb/categories/{category_id}", status_code=204)
async def delete_category(a: Access = Depends(access("kb.manage"))) -> Response:
    """Delete an empty category (409 ``category_in_use`` while articles are in it)."""
    async with a.write() as tx:
        await actions.delete_category(tx, a.obj("category_id"))
    return Response(status_code=204)


# --- articles --------------------------------------------------------------------------------------------------


@router.get("/kb/articles", response_model=Page[ArticleOut])
async def list_articles(
    a: Access = Depends(access("kb.read")),
    language: Language | None = None,
    category_id: Id | None = None,
    visibility: Visibility | None = None,
    status: Status | None = Query(None, description="editors only; others see published articles"),
    slug: str | None = Query(None, max_length=120),
    limit: int = Query(100, ge=1, le=500),
    after: Cursor | None = None,
) -> Page[ArticleOut]:
    """The tenant's articles by id (without their bodies), filtered."""
    query = select(KbArticle).where(KbArticle.tenant_id == a.tenant.id)
    if status not in (None, "published") and not can(a.actor, "kb.manage"):
        raise Forbidden("only editors (kb.manage) list drafts and archived articles")
    if status is None and not can(a.actor, "kb.manage"):
        status = "published"
    filters = ((KbArticle.language, language), (KbArticle.category_id, category_id),
               (KbArticle.visibility, visibility), (KbArticle.status, status), (KbArticle.slug, slug))  # fmt: skip
    for column, value in filters:
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(KbArticle.id > after)
    rows = list(await a.session.scalars(query.order_by(KbArticle.id).limit(limit + 1)))
    items = [ArticleOut.model_validate(row) for row in rows[:limit]]
    return Page[ArticleOut](items=items, next_cursor=items[-1].id if len(rows) > limit else None)


@router.post("/kb/articles", response_model=ArticleDetail, status_code=201)
async def create_article(body: ArticleIn, a: Access = Depends(access("kb.manage"))) -> ArticleDetail:
    """Write an article (version 1). Translations of one article share its ``slug``."""
    async with a.write() as tx:
        article = await actions.create_article(tx, a.tenant.id, body, _embedder(a))
    return _detail(article)


@router.get("/kb/articles/{article_id}", response_model=ArticleDetail)
async def get_article(a: Access = Depends(access("kb.read"))) -> ArticleDetail:
    """The article with its Markdown body and the body as safe HTML."""
    return _detail(_readable(a, a.obj("article_id")))


@router.patch("/kb/articles/{article_id}", response_model=ArticleDetail)
async def update_article(body: ArticlePatch, a: Access = Depends(access("kb.manage"))) -> ArticleDetail:
    """Change the article: a new version when anything changed. With ``base_version``, refused (409
    ``stale_version``) when another version was saved since the editor opened it."""
    async with a.write() as tx:
        article = await actions.update_article(tx, a.obj("article_id"), body, _embedder(a))
    return _detail(article)


@router.post("/kb/articles/{article_id}/restore", response_model=ArticleDetail)
async def restore_article(body: ArticleRestoreIn, a: Access = Depends(access("kb.manage"))) -> ArticleDetail:
    """Make an earlier version current again (saved as a new version)."""
    async with a.write() as tx:
        article = await actions.restore_article(tx, a.obj("article_id"), body, _embedder(a))
    return _detail(article)


@router.delete("/kb/articles/{article_id}", status_code=204)
async def delete_article(a: Access = Depends(access("kb.manage"))) -> Response:
    """Delete the article and its history (to keep them, set ``status`` archived instead)."""
    async with a.write() as tx:
        await actions.delete_article(tx, a.obj("article_id"))
    return Response(status_code=204)


@router.get("/kb/articles/{article_id}/versions", response_model=list[VersionOut])
async def list_versions(a: Access = Depends(access("kb.manage"))) -> list[VersionOut]:
    """Every saved version, newest first."""
    article: KbArticle = a.obj("article_id")
    rows = await a.session.scalars(
        select(KbArticleVersion)
        .where(KbArticleVersion.article_id == article.id)
        .order_by(KbArticleVersion.version.desc())
    )
    return [VersionOut.model_validate(row) for row in rows]


# --- search ----------------------------------------------------------------------------------------------------


@router.get("/kb/search", response_model=SearchOut)
async def search_articles(
    a: Access = Depends(access("kb.read")),
    q: str = Query("", max_length=200, description="words; inflected forms find each other (none: the latest)"),
    language: list[Language] = Query([], description="the articles' languages (default: all)"),
    category_id: Id | None = None,
    visibility: Visibility | None = None,
    status: Literal["published", "draft", "archived"] = Query("published", description="others: editors only"),
    limit: int = Query(20, ge=1, le=200),
    mode: finder.Mode | None = Query(
        None, description="text, semantic (by meaning) or hybrid (both); default: hybrid when the model is ready"
    ),
) -> SearchOut:
    """Published articles (internal and public) for ``q``, best first, each with a plain-text snippet and how it
    was found (``match``). Full text (``mode=text``): every word of ``q`` occurs in some form; a word is stemmed in
    each language searched (all the tenant's, when none is given), so "reklamacji" finds "reklamacja" and
    "invoices" finds "invoice"; the last word may be unfinished. Semantic (``mode=semantic``): English articles
    close in meaning to ``q``. Hybrid: both rankings fused. ``semantic`` or ``hybrid`` without the model: 409
    ``semantic_unavailable``. Without words: the latest changed articles."""
    if status != "published" and not can(a.actor, "kb.manage"):
        raise Forbidden("only editors (kb.manage) search drafts and archived articles")
    languages = language or list(a.tenant.languages or ["en"])
    terms = text.query_terms(q, languages)
    f = search.Filters(a.tenant.id, language, visibility, (status,), category_id)
    found = await finder.find(a.session, _embedder(a), f, q, terms, mode, limit)
    items = [
        SearchHit(id=hit.article.id, language=hit.article.language, slug=hit.article.slug, title=hit.article.title,
                  category_id=hit.article.category_id, visibility=hit.article.visibility, status=hit.article.status,
                  snippet=text.snippet(markup.to_text(hit.article.body), terms, hit.article.language),
                  score=hit.score, match=hit.match)
        for hit in found.hits
    ]  # fmt: skip
    return SearchOut(query=q, terms=terms, semantic=found.semantic, items=items)
