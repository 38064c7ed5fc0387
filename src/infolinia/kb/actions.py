"""Writing the knowledge base: every change goes through here, in the caller's transaction, with its audit record
and its event. Each save of an article is a new version (``KbArticleVersion``, kept for ever) and re-indexes it:
its stemmed words (``kb.text``) and, when the model is ready, its embedding (``kb.semantic``; computed in the
model's own process). ``fill_embeddings`` makes the embeddings that are missing or stale."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from infolinia.errors import Conflict, Invalid, NotFound
from infolinia.kb import markup, ranking, semantic, text
from infolinia.kb.schemas import ArticleIn, ArticlePatch, ArticleRestoreIn, CategoryIn, CategoryPatch
from infolinia.store.db import Database
from infolinia.store.models import KbArticle, KbArticleVersion, KbCategory
from infolinia.store.refs import require_in_tenant
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx

#: what a version holds besides its number and note
VERSIONED = ("title", "body", "category_id", "visibility", "status", "tags")


def _index(article: KbArticle) -> None:
    article.search_title = text.index_terms(article.title, article.language)
    article.search_body = text.index_terms(markup.to_text(article.body), article.language)


async def _embed(article: KbArticle, embedder: semantic.Embedder | None) -> None:
    """The embedding of the article's title and text; none while the model is not ready, or for a language it does
    not understand (``fill_embeddings`` makes it later)."""
    article.embedding, article.embedding_key = None, None
    if embedder is None or not semantic.embeds(article.language):
        return
    source = semantic.article_text(article.title, article.body)
    vectors = await embedder.embed([source])
    if vectors is not None:
        article.embedding, article.embedding_key = ranking.to_bytes(vectors[0]), semantic.embedding_key(source)


def _version(tx: Tx, article: KbArticle, note: str | None) -> None:
    tx.session.add(KbArticleVersion(tenant_id=article.tenant_id, article_id=article.id, version=article.version,
                                    note=note, author_id=tx.who.user_id,
                                    **{f: getattr(article, f) for f in VERSIONED}))  # fmt: skip


def _emit(tx: Tx, type_: str, article: KbArticle, **data: Any) -> None:
    tx.emit(type_, article.tenant_id, id=article.id, language=article.language, slug=article.slug,
            version=article.version, status=article.status, visibility=article.visibility, **data)  # fmt: skip


async def _slug_free(tx: Tx, tenant_id: int, language: str, slug: str, article_id: int | None = None) -> None:
    query = select(KbArticle.id).where(
        KbArticle.tenant_id == tenant_id, KbArticle.language == language, KbArticle.slug == slug
    )
    found = await tx.session.scalar(query)
    if found is not None and found != article_id:
        raise Conflict(f"an article in {language!r} is already at {slug!r}", code="slug_taken",
                       details={"field": "slug", "article_id": found})  # fmt: skip


async def create_article(
    tx: Tx, tenant_id: int, data: ArticleIn, embedder: semantic.Embedder | None = None
) -> KbArticle:
    await require_in_tenant(tx.session, tenant_id, {"category_id": (KbCategory, data.category_id)})
    await _slug_free(tx, tenant_id, data.language, data.slug)
    article = KbArticle(tenant_id=tenant_id, language=data.language, slug=data.slug, title=data.title,
                        body=data.body, category_id=data.category_id, visibility=data.visibility,
                        status=data.status, tags=list(dict.fromkeys(data.tags)), version=1,
                        created_by_id=tx.who.user_id, updated_by_id=tx.who.user_id,
                        published_at=utcnow() if data.status == "published" else None)  # fmt: skip
    _index(article)
    await _embed(article, embedder)
    tx.session.add(article)
    await tx.session.flush()
    _version(tx, article, None)
    tx.audit(tenant_id, "kb_article.create", "kb_article", article.id, language=article.language,
             visibility=article.visibility, status=article.status)  # fmt: skip
    _emit(tx, "kb_article.created", article)
    return article


async def _apply(
    tx: Tx,
    article: KbArticle,
    changes: dict[str, Any],
    note: str | None,
    action: str,
    embedder: semantic.Embedder | None,
) -> KbArticle:
    changed = [f for f, v in changes.items() if getattr(article, f) != v]
    if not changed:
        return article
    if "category_id" in changed:
        await require_in_tenant(tx.session, article.tenant_id, {"category_id": (KbCategory, changes["category_id"])})
    if "slug" in changed:
        await _slug_free(tx, article.tenant_id, article.language, changes["slug"], article.id)
    for f in changed:
        setattr(article, f, changes[f])
    if "status" in changed and article.status == "published":
        article.published_at = utcnow()
    article.version += 1
    article.updated_by_id = tx.who.user_id
    if {"title", "body"} & set(changed):
        _index(article)
        await _embed(article, embedder)
    _version(tx, article, note)
    tx.audit(article.tenant_id, action, "kb_article", article.id, fields=changed, version=article.version)
    _emit(tx, "kb_article.updated", article, fields=changed)
    return article


async def update_article(
    tx: Tx, article: KbArticle, data: ArticlePatch, embedder: semantic.Embedder | None = None
) -> KbArticle:
    if data.base_version is not None and data.base_version != article.version:
        raise Conflict(f"version {article.version} was saved after version {data.base_version}: reload and edit it",
                       code="stale_version", details={"version": article.version})  # fmt: skip
    fields = data.model_dump(exclude_unset=True, exclude={"note", "base_version"})
    for required in ("slug", "title", "body", "visibility", "status", "tags"):
        if required in fields and fields[required] is None:
            raise Invalid(f"{required} cannot be empty", code="required", details={"field": required})
    if "tags" in fields:
        fields["tags"] = list(dict.fromkeys(fields["tags"]))
    return await _apply(tx, article, fields, data.note, "kb_article.update", embedder)


async def restore_article(
    tx: Tx, article: KbArticle, data: ArticleRestoreIn, embedder: semantic.Embedder | None = None
) -> KbArticle:
    """Make an earlier version the current one (as a new version: history is never rewritten)."""
    old = await tx.session.scalar(
        select(KbArticleVersion).where(
            KbArticleVersion.article_id == article.id, KbArticleVersion.version == data.version
        )
    )
    if old is None:
        raise NotFound(f"article {article.id} has no version {data.version}", code="no_such_version")
    if old.category_id is not None and await tx.session.get(KbCategory, old.category_id) is None:
        old_category: int | None = None  # the category was deleted since: restored without one
    else:
        old_category = old.category_id
    changes = {f: getattr(old, f) for f in VERSIONED} | {"category_id": old_category}
    note = data.note or f"restored version {data.version}"
    return await _apply(tx, article, changes, note, "kb_article.restore", embedder)


async def delete_article(tx: Tx, article: KbArticle) -> None:
    """Delete an article and its versions (archiving keeps them: ``status`` archived)."""
    tx.audit(article.tenant_id, "kb_article.delete", "kb_article", article.id, language=article.language,
             version=article.version)  # fmt: skip
    _emit(tx, "kb_article.deleted", article)
    await tx.session.execute(delete(KbArticleVersion).where(KbArticleVersion.article_id == article.id))
    await tx.session.delete(article)


async def create_category(tx: Tx, tenant_id: int, data: CategoryIn) -> KbCategory:
    category = KbCategory(tenant_id=tenant_id, slug=data.slug, names=data.names, position=data.position)
    tx.session.add(category)
    try:
        async with tx.session.begin_nested():
            await tx.session.flush()
    except IntegrityError:
        raise Conflict(f"a category is already at {data.slug!r}", code="slug_taken",
                       details={"field": "slug"}) from None  # fmt: skip
    tx.audit(tenant_id, "kb_category.create", "kb_category", category.id)
    tx.emit("kb_category.created", tenant_id, id=category.id)
    return category


async def update_category(tx: Tx, category: KbCategory, data: CategoryPatch) -> KbCategory:
    fields = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if "slug" in fields and fields["slug"] != category.slug:
        taken = await tx.session.scalar(
            select(KbCategory.id).where(KbCategory.tenant_id == category.tenant_id, KbCategory.slug == fields["slug"])
        )
        if taken is not None:
            raise Conflict(f"a category is already at {fields['slug']!r}", code="slug_taken",
                           details={"field": "slug"})  # fmt: skip
    changed = [f for f, v in fields.items() if getattr(category, f) != v]
    for f in changed:
        setattr(category, f, fields[f])
    if changed:
        tx.audit(category.tenant_id, "kb_category.update", "kb_category", category.id, fields=changed)
        tx.emit("kb_category.updated", category.tenant_id, id=category.id, fields=changed)
    return category


async def delete_category(tx: Tx, category: KbCategory) -> None:
    """Delete an empty category (409 while articles are in it)."""
    count = await tx.session.scalar(select(func.count()).where(KbArticle.category_id == category.id))
    if count:
        raise Conflict(f"{count} article(s) are in this category: move or delete them first",
                       code="category_in_use", details={"articles": count})  # fmt: skip
    tx.audit(category.tenant_id, "kb_category.delete", "kb_category", category.id)
    tx.emit("kb_category.deleted", category.tenant_id, id=category.id)
    await tx.session.delete(category)


async def reindex(tx: Tx, tenant_id: int | None = None) -> int:
    """Index every article's words again (after the stemmer changed); how many. Embeddings: ``fill_embeddings``."""
    query = select(KbArticle)
    if tenant_id is not None:
        query = query.where(KbArticle.tenant_id == tenant_id)
    count = 0
    for article in await tx.session.scalars(query):
        _index(article)
        count += 1
    return count


def _stale(rows: list[tuple[Any, ...]]) -> tuple[list[tuple[int, int, str, str]], list[int]]:
    """Of (id, version, language, title, body, embedding key) rows: those to embed as (id, version, text, key),
    and the ids whose embedding is to go (a language the model does not understand)."""
    todo: list[tuple[int, int, str, str]] = []
    dropped: list[int] = []
    for id_, version, language, title, body, key in rows:
        if not semantic.embeds(language):
            if key is not None:
                dropped.append(id_)
            continue
        source = semantic.article_text(title, body)
        wanted = semantic.embedding_key(source)
        if key != wanted:
            todo.append((id_, version, source, wanted))
    return todo, dropped


async def fill_embeddings(db: Database, embedder: semantic.Embedder, tenant_id: int | None = None) -> int:
    """Make the embeddings that are missing or stale (made by another model or from another text) and drop those of
    articles in languages the model does not understand; how many were made. Loads the model when there is work
    for it (``Embedder.load``); a batch at a time, each computed in the model's process outside any transaction, and
    written only to articles that were not saved again meanwhile."""
    query = select(KbArticle.id, KbArticle.version, KbArticle.language, KbArticle.title, KbArticle.body,
                   KbArticle.embedding_key).order_by(KbArticle.id)  # fmt: skip
    if tenant_id is not None:
        query = query.where(KbArticle.tenant_id == tenant_id)
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    todo, dropped = await asyncio.to_thread(_stale, [tuple(row) for row in rows])  # Markdown of every article
    made = 0
    if todo and not await embedder.load():
        todo = []
    async with db.session() as session:
        if dropped:
            cleared = update(KbArticle).where(KbArticle.id.in_(dropped))
            await session.execute(cleared.values(embedding=None, embedding_key=None, updated_at=KbArticle.updated_at))
            await session.commit()
        for start in range(0, len(todo), semantic.BATCH):
            batch = todo[start : start + semantic.BATCH]
            vectors = await embedder.embed([source for _, _, source, _ in batch])
            if vectors is None:
                break
            for (id_, version, _, key), vector in zip(batch, vectors, strict=True):
                result = await session.execute(
                    update(KbArticle).where(KbArticle.id == id_, KbArticle.version == version)
                    .values(embedding=ranking.to_bytes(vector), embedding_key=key, updated_at=KbArticle.updated_at)
                )  # fmt: skip
                made += getattr(result, "rowcount", 0) or 0
            await session.commit()
    return made
