"""A tenant's public help page, ``/help/<slug>``: its public, published knowledge-base articles by category, in each
of its languages, with search (the same search agents use, ``kb/finder.py``: hybrid, full text and meaning, when
the semantic model is ready; else full text).

- ``/help/<slug>?lang=pl``: the categories and their articles (the tenant's first language unless asked).
- ``/help/<slug>/<lang>/<article>``: one article, with links to its translations.
- ``/help/<slug>/search?q=…&lang=…``: results with snippets; ``/help/<slug>/search.json`` the same as JSON.

Anyone may read, so: only public, published articles ever show (404 for anything else, and for a tenant with
none); every value is escaped (article bodies are rendered from Markdown with no raw HTML, ``kb/markup.py``);
the pages load nothing from anywhere (Content-Security-Policy); searches are limited per address
(``SEARCH_LIMIT`` in ``SEARCH_WINDOW_S``; 429 with Retry-After).
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any, Final
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.api.deps import client_ip
from infolinia.auth.ratelimit import SlidingWindowLimiter
from infolinia.kb import finder, markup, search, text
from infolinia.store.models import KbArticle, KbCategory, Tenant
from infolinia.web.forms import HEADERS  # the same: nothing loaded from anywhere

router = APIRouter(include_in_schema=False)

SEARCH_LIMIT: Final = 60
SEARCH_WINDOW_S: Final = 60.0
MAX_QUERY: Final = 200

#: the page's own words per language (articles are in the tenant's words)
WORDS: Final = {
    "en": {"help": "Help", "search": "Search", "results": "Search results", "none": "Nothing found.",
           "back": "All help topics", "other": "Other", "also_in": "Also in", "query": "Search the help pages"},
    "pl": {"help": "Pomoc", "search": "Szukaj", "results": "Wyniki wyszukiwania", "none": "Nic nie znaleziono.",
           "back": "Wszystkie tematy pomocy", "other": "Inne", "also_in": "Także po", "query": "Szukaj w pomocy"},
}  # fmt: skip
LANGUAGE_NAMES: Final = {"pl": "polski", "en": "English", "ru": "русский", "sk": "slovenčina", "cs": "čeština",
                         "de": "Deutsch", "uk": "українська"}  # fmt: skip


class HelpLimits:
    """The help pages' search limit (one per process, on the app's context)."""

    def __init__(self) -> None:
        self.by_ip = SlidingWindowLimiter(SEARCH_LIMIT, SEARCH_WINDOW_S)


def _words(language: str) -> dict[str, str]:
    return WORDS.get(text.base_language(language), WORDS["en"])


def _public(tenant_id: int) -> tuple[Any, ...]:
    return (KbArticle.tenant_id == tenant_id, KbArticle.visibility == "public", KbArticle.status == "published")


async def _site(s: AsyncSession, slug: str) -> tuple[Tenant, list[str]] | None:
    """The tenant and the languages its public articles are in (its own languages first), or None: no page."""
    tenant = await s.scalar(select(Tenant).where(Tenant.slug == slug[:40]))
    if tenant is None:
        return None
    present = set(await s.scalars(select(KbArticle.language).where(*_public(tenant.id)).distinct()))
    if not present:
        return None
    own = [lang for lang in tenant.languages or [] if lang in present]
    return tenant, own + sorted(present - set(own))


def _language(request: Request, languages: list[str]) -> str:
    asked = request.query_params.get("lang", "")
    return asked if asked in languages else languages[0]


def _not_found() -> HTMLResponse:
    return _page("en", "Not found", "<p>There is no such page.</p>", 404)


@router.get("/help/{slug}", response_class=HTMLResponse)
async def help_home(slug: str, request: Request) -> Response:
    async with request.app.state.ctx.db.session() as s:
        site = await _site(s, slug)
        if site is None:
            return _not_found()
        tenant, languages = site
        lang = _language(request, languages)
        articles = list(await s.scalars(
            select(KbArticle).where(*_public(tenant.id), KbArticle.language == lang).order_by(KbArticle.title)
        ))  # fmt: skip
        categories = list(await s.scalars(
            select(KbCategory).where(KbCategory.tenant_id == tenant.id).order_by(KbCategory.position, KbCategory.id)
        ))  # fmt: skip
    w = _words(lang)
    by_category: dict[int | None, list[KbArticle]] = defaultdict(list)
    for article in articles:
        by_category[article.category_id].append(article)
    sections = []
    for category, name in [(c.id, _category_name(c, lang)) for c in categories] + [(None, w["other"])]:
        if by_category.get(category):
            items = "".join(f'<li><a href="{_article_url(tenant.slug, a)}">{escape(a.title)}</a></li>'
                            for a in by_category[category])  # fmt: skip
            sections.append(f"<section><h2>{escape(name)}</h2><ul>{items}</ul></section>")
    body = _languages_nav(tenant.slug, languages, lang) + _search_form(tenant.slug, lang, "") + "".join(sections)
    return _page(lang, f"{tenant.name}: {w['help']}", body)


@router.get("/help/{slug}/search", response_class=HTMLResponse)
async def help_search(slug: str, request: Request) -> Response:
    found = await _search(request, slug)
    if isinstance(found, Response):
        return found
    tenant, lang, query, hits = found
    w = _words(lang)
    items = "".join(
        f'<li><a href="{_article_url(tenant.slug, a)}">{escape(a.title)}</a><p>{escape(snip)}</p></li>'
        for a, snip in hits
    )
    results = f"<ol>{items}</ol>" if hits else f"<p>{escape(w['none'])}</p>"
    body = (_search_form(tenant.slug, lang, query) + f"<h2>{escape(w['results'])}</h2>" + results
            + f'<p><a href="{_home_url(tenant.slug, lang)}">{escape(w["back"])}</a></p>')  # fmt: skip
    return _page(lang, f"{tenant.name}: {w['help']}", body)


@router.get("/help/{slug}/search.json")
async def help_search_json(slug: str, request: Request) -> Response:
    found = await _search(request, slug)
    if isinstance(found, Response):
        return JSONResponse({"error": "not found"}, 404) if found.status_code == 404 else found
    tenant, lang, query, hits = found
    items = [{"title": a.title, "slug": a.slug, "language": a.language, "url": _article_url(tenant.slug, a),
              "snippet": snip} for a, snip in hits]  # fmt: skip
    return JSONResponse({"query": query, "language": lang, "items": items}, headers=HEADERS)


@router.get("/help/{slug}/{lang}/{article_slug}", response_class=HTMLResponse)
async def help_article(slug: str, lang: str, article_slug: str, request: Request) -> Response:
    async with request.app.state.ctx.db.session() as s:
        site = await _site(s, slug)
        if site is None or lang not in site[1]:
            return _not_found()
        tenant = site[0]
        article = await s.scalar(
            select(KbArticle).where(
                *_public(tenant.id), KbArticle.language == lang, KbArticle.slug == article_slug[:120]
            )
        )
        if article is None:
            return _not_found()
        others = list(await s.scalars(
            select(KbArticle).where(*_public(tenant.id), KbArticle.slug == article.slug, KbArticle.language != lang)
        ))  # fmt: skip
    w = _words(lang)
    also = ""
    if others:
        links = ", ".join(f'<a href="{_article_url(tenant.slug, o)}" hreflang="{escape(o.language)}">'
                          f"{escape(LANGUAGE_NAMES.get(o.language, o.language))}</a>" for o in others)  # fmt: skip
        also = f"<p>{escape(w['also_in'])}: {links}</p>"
    body = (f'<p><a href="{_home_url(tenant.slug, lang)}">{escape(w["back"])}</a></p>'
            f"<article><h2>{escape(article.title)}</h2>{markup.to_html(article.body)}</article>{also}")  # fmt: skip
    return _page(lang, f"{tenant.name}: {w['help']}", body)


async def _search(request: Request, slug: str) -> tuple[Tenant, str, str, list[tuple[KbArticle, str]]] | Response:
    limits: HelpLimits = request.app.state.ctx.help_limits
    ip = client_ip(request) or "?"
    wait = limits.by_ip.check(ip)
    if wait > 0:
        return Response("too many searches; try again later", 429,
                        headers={**HEADERS, "Retry-After": str(max(1, round(wait)))})  # fmt: skip
    limits.by_ip.record(ip)
    query = request.query_params.get("q", "")[:MAX_QUERY].strip()
    async with request.app.state.ctx.db.session() as s:
        site = await _site(s, slug)
        if site is None:
            return _not_found()
        tenant, languages = site
        lang = _language(request, languages)
        terms = text.query_terms(query, [lang])
        f = search.Filters(tenant.id, (lang,), "public")
        found = await finder.find(s, request.app.state.ctx.semantic, f, query, terms, None, 20) if query else None
    hits = [(h.article, text.snippet(markup.to_text(h.article.body), terms, h.article.language))
            for h in (found.hits if found else [])]  # fmt: skip
    return tenant, lang, query, hits


def _category_name(category: KbCategory, lang: str) -> str:
    names: dict[str, str] = category.names or {}
    return names.get(lang) or names.get(text.base_language(lang)) or next(iter(names.values()), category.slug)


def _home_url(slug: str, lang: str) -> str:
    return escape(f"/help/{quote(slug)}?{urlencode({'lang': lang})}")


def _article_url(slug: str, article: KbArticle) -> str:
    return escape(f"/help/{quote(slug)}/{quote(article.language)}/{quote(article.slug)}")


def _languages_nav(slug: str, languages: list[str], current: str) -> str:
    if len(languages) < 2:
        return ""
    links = " · ".join(
        f"<strong>{escape(LANGUAGE_NAMES.get(lang, lang))}</strong>" if lang == current
        else f'<a href="{_home_url(slug, lang)}" hreflang="{escape(lang)}">{escape(LANGUAGE_NAMES.get(lang, lang))}</a>'
        for lang in languages
    )  # fmt: skip
    return f"<nav>{links}</nav>"


def _search_form(slug: str, lang: str, query: str) -> str:
    w = _words(lang)
    return (f'<form role="search" method="get" action="/help/{escape(quote(slug))}/search">'
            f'<label for="q">{escape(w["query"])}</label> '
            f'<input id="q" name="q" type="search" maxlength="{MAX_QUERY}" value="{escape(query)}">'
            f'<input type="hidden" name="lang" value="{escape(lang)}"> '
            f'<button>{escape(w["search"])}</button></form>')  # fmt: skip


def _page(lang: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="{escape(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; margin: 1rem auto; max-width: 46rem; padding: 0 1rem; color: #111; }}
a {{ color: #0645ad; }} nav {{ margin-bottom: 1rem; }} form {{ margin: 1rem 0; }}
input[type=search] {{ width: 60%; padding: .4rem; font: inherit; }} button {{ padding: .4rem .8rem; font: inherit; }}
li p {{ margin: .2rem 0 .8rem; color: #333; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #999; padding: .2rem .5rem; }}
pre {{ background: #f4f4f4; padding: .5rem; overflow: auto; }}
</style></head>
<body><h1>{escape(title)}</h1>
{body}
</body></html>"""
    return HTMLResponse(html, status_code=status, headers=HEADERS)
