"""The knowledge base's articles for editors (``kb.manage``): ``/admin/kb`` lists every article of the tenant (drafts
and archived ones too), ``/admin/kb/{article_id}`` edits one. Saving goes through ``kb.actions.update_article``
(a new version, audit, events, the semantic embedding when the model is ready) with the version the editor
started from, so a save over someone else's newer version is refused (409 ``stale_version``) and said so. The
preview is the saved body rendered by ``kb.markup`` (Markdown without raw HTML), as agents and the help page see
it."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import select

from infolinia.errors import DomainError
from infolinia.kb import actions, markup
from infolinia.kb.schemas import ArticlePatch
from infolinia.kb.semantic import Embedder
from infolinia.store.models import KbArticle, KbCategory
from infolinia.web.ui.gate import Page, form, gate, page
from infolinia.web.ui.problems import problems_of, refusal

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_BODY: Final = 200_000
STATUSES: Final = ("draft", "published", "archived")
VISIBILITIES: Final = ("internal", "public")


@router.get("/admin/kb")
@page
async def articles(request: Request) -> Response:
    async with gate(request, "kb.manage") as p:
        a = p.access
        rows = list(await a.session.scalars(
            select(KbArticle).where(KbArticle.tenant_id == a.tenant.id).order_by(KbArticle.slug, KbArticle.language)
        ))  # fmt: skip
        language = p.viewer.language
        categories = {
            c.id: (c.names or {}).get(language) or c.slug
            for c in await a.session.scalars(select(KbCategory).where(KbCategory.tenant_id == a.tenant.id))
        }
        return p.render("admin/kb_list.html", articles=rows, categories=categories)


def _values(article: KbArticle) -> dict[str, str]:
    return {"title": article.title, "body": article.body, "status": article.status,
            "visibility": article.visibility, "note": "", "base_version": str(article.version)}  # fmt: skip


async def _article_page(p: Page, article: KbArticle, values: dict[str, str], problems: dict[str, str],
                        status: int = 200, saved: bool = False) -> Response:  # fmt: skip
    preview = Markup(markup.to_html(article.body))  # safe: kb.markup renders Markdown without raw HTML
    return p.render("admin/kb_edit.html", status, article=article, values=values, problems=problems, saved=saved,
                    preview=preview, statuses=STATUSES, visibilities=VISIBILITIES)  # fmt: skip


@router.get("/admin/kb/{article_id}")
@page
async def article(article_id: int, request: Request) -> Response:
    async with gate(request, "kb.manage") as p:
        row: KbArticle = p.access.obj("article_id")
        return await _article_page(p, row, _values(row), {}, saved=request.query_params.get("saved") == "1")


@router.post("/admin/kb/{article_id}")
@page
async def save_article(article_id: int, request: Request) -> Response:
    async with gate(request, "kb.manage") as p:
        row: KbArticle = p.access.obj("article_id")
        fields = await form(request, p)
        values = {name: (fields.get(name) or [""])[0][:MAX_BODY] for name in
                  ("title", "body", "status", "visibility", "note", "base_version")}  # fmt: skip
        data: dict[str, Any] = {name: values[name] for name in ("title", "body", "status", "visibility")}
        if values["note"].strip():
            data["note"] = values["note"].strip()
        if values["base_version"].isdigit():
            data["base_version"] = int(values["base_version"])
        try:
            body = ArticlePatch.model_validate(data)
        except ValidationError as exc:
            return await _article_page(p, row, values, problems_of(exc, p._), 422)
        embedder: Embedder = request.app.state.ctx.semantic
        try:
            async with p.access.write() as tx:
                await actions.update_article(tx, row, body, embedder)
        except DomainError as exc:
            await p.reload(row)
            return await _article_page(p, row, values, {"form": refusal(exc, p._)}, exc.status)
        return RedirectResponse(f"/admin/kb/{row.id}?saved=1", status_code=303)
