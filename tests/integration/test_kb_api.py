"""The knowledge base through the API: articles per language with versions, categories, and full-text search that
finds inflected Polish and English forms on SQLite (FTS5) and PostgreSQL alike; drafts for editors only; tenants
apart."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from infolinia.app import Infolinia
from infolinia.kb.actions import reindex
from infolinia.store.models import AuditEvent, KbArticle, Tenant
from infolinia.store.uow import SYSTEM, write
from tests.conftest import Login
from tests.tenant_api import TenantApi, acme_admin, demo_admin

__all__ = ["acme_admin", "demo_admin"]


async def search(api: TenantApi, q: str, **params: Any) -> list[dict[str, Any]]:
    # full text only: semantic search (tests/integration/test_kb_semantic.py) would add articles close in meaning
    r = await api.client.get("/api/v1/kb/search", params={"q": q, "mode": "text", **params}, headers=api.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def titles(hits: list[dict[str, Any]]) -> list[str]:
    return [h["title"] for h in hits]


@pytest.fixture
async def agent(client: httpx.AsyncClient, login: Login) -> TenantApi:
    return TenantApi(client, await login("agent1@demo.test"))


async def test_polish_search_finds_inflected_forms(agent: TenantApi) -> None:
    for query in ("reklamacji", "reklamacja", "reklamację", "REKLAMACJE"):
        found = titles(await search(agent, query, language="pl"))
        assert "Jak złożyć reklamację" in found, (query, found)
        assert "Obsługa reklamacji faktury (procedura)" in found, (query, found)  # internal: agents see it
    for query in ("faktura", "faktury", "fakturę"):
        found = titles(await search(agent, query, language="pl"))
        assert "Terminy płatności faktur" in found and "Obsługa reklamacji faktury (procedura)" in found, query
    assert titles(await search(agent, "platnosci", language="pl")) == ["Terminy płatności faktur"]  # no diacritics


async def test_english_search_finds_inflected_forms_and_ranks_titles_first(agent: TenantApi) -> None:
    for query in ("invoices", "invoice", "invoiced"):
        found = titles(await search(agent, query, language="en"))
        assert found[:2] == ["Invoice payment deadlines", "Issuing a corrected invoice"] or found[:2] == [
            "Issuing a corrected invoice",
            "Invoice payment deadlines",
        ], found
    found = await search(agent, "complaints filed", language="en")
    assert titles(found) == ["How to file a complaint"]
    assert "complaint" in found[0]["snippet"].lower() and found[0]["visibility"] == "public"


async def test_every_word_must_match_and_the_last_may_be_unfinished(agent: TenantApi) -> None:
    assert titles(await search(agent, "router restart", language="en")) == ["Restarting your router"]
    assert titles(await search(agent, "router invoice", language="en")) == []
    assert titles(await search(agent, "rout", language="en")) == ["Restarting your router"]  # typing on


async def test_without_a_language_the_tenants_languages_are_searched(agent: TenantApi) -> None:
    found = await search(agent, "router")
    assert sorted(h["language"] for h in found) == ["en", "pl"]
    assert {h["slug"] for h in found} == {"router-restart"}  # translations share the slug


async def test_drafts_are_for_editors(agent: TenantApi, demo_admin: TenantApi) -> None:
    assert await search(agent, "tariffs", language="en") == []
    r = await agent.client.get("/api/v1/kb/search", params={"q": "tariffs", "status": "draft"}, headers=agent.headers)
    assert r.status_code == 403
    assert titles(await search(demo_admin, "tariffs", status="draft")) == ["New tariffs from next year"]
    drafts = await demo_admin.call("GET", "/kb/articles?status=draft")
    draft = next(a for a in drafts["items"] if a["slug"] == "new-tariffs")
    await agent.refused("GET", f"/kb/articles/{draft['id']}", None, 404, "not_found")
    listed = await agent.call("GET", "/kb/articles?limit=500")
    assert draft["id"] not in {a["id"] for a in listed["items"]}
    assert all(a["status"] == "published" for a in listed["items"])


async def test_versions_restore_and_the_index_follows(demo_admin: TenantApi, agent: TenantApi) -> None:
    slug = f"wifi-{uuid.uuid4().hex[:8]}"
    made = await demo_admin.call("POST", "/kb/articles", {
        "language": "en", "slug": slug, "title": "Wireless password", "status": "published",
        "body": "The **wireless** password is printed under the modem.",
    }, status=201)  # fmt: skip
    assert made["version"] == 1 and "<strong>wireless</strong>" in made["html"]
    article = f"/kb/articles/{made['id']}"
    assert slug in {h["slug"] for h in await search(agent, "printed modems", language="en")}

    changed = await demo_admin.call("PATCH", article, {"body": "Find the password on the sticker.",
                                                       "note": "new modems", "base_version": 1})  # fmt: skip
    assert changed["version"] == 2
    assert slug not in {h["slug"] for h in await search(agent, "printed modems", language="en")}
    assert slug in {h["slug"] for h in await search(agent, "stickers", language="en")}

    stale = await demo_admin.refused("PATCH", article, {"title": "Wi-Fi", "base_version": 1}, 409, "stale_version")
    assert stale["details"]["version"] == 2
    same = await demo_admin.call("PATCH", article, {"body": "Find the password on the sticker."})
    assert same["version"] == 2  # nothing changed: no new version

    restored = await demo_admin.call("POST", f"{article}/restore", {"version": 1}, status=200)
    assert restored["version"] == 3 and restored["body"].startswith("The **wireless**")
    versions = await demo_admin.call("GET", f"{article}/versions")
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert versions[0]["note"] == "restored version 1" and versions[1]["note"] == "new modems"
    await demo_admin.refused("POST", f"{article}/restore", {"version": 9}, 404, "no_such_version")
    assert slug in {h["slug"] for h in await search(agent, "printed modems", language="en")}

    await demo_admin.call("PATCH", article, {"status": "archived"})
    assert slug not in {h["slug"] for h in await search(agent, "printed modems", language="en")}
    assert slug in {h["slug"] for h in await search(demo_admin, "printed modems", status="archived")}
    await demo_admin.call("DELETE", article, status=204)
    assert slug not in {h["slug"] for h in await search(demo_admin, "printed modems", status="archived")}
    await demo_admin.refused("GET", article, None, 404, "not_found")


async def test_changes_are_audited(center: Infolinia, demo_admin: TenantApi) -> None:
    async with center.db.session() as s:
        before = await s.scalar(select(func.max(AuditEvent.id))) or 0
    made = await demo_admin.call("POST", "/kb/articles", {
        "language": "pl", "slug": f"audit-{uuid.uuid4().hex[:8]}", "title": "Audyt", "body": "Treść.",
    }, status=201)  # fmt: skip
    await demo_admin.call("PATCH", f"/kb/articles/{made['id']}", {"title": "Audyt 2"})
    async with center.db.session() as s:
        actions = list(await s.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "kb_article", AuditEvent.id > before,
                                            AuditEvent.object_id == str(made["id"])).order_by(AuditEvent.id)
        ))  # fmt: skip
    assert actions == ["kb_article.create", "kb_article.update"]


async def test_bad_input_is_refused_clearly(demo_admin: TenantApi) -> None:
    good = {"language": "en", "slug": "payment-deadlines", "title": "T", "body": "B"}
    await demo_admin.refused("POST", "/kb/articles", good, 409, "slug_taken")  # the demo's English one
    for bad in ({**good, "language": "english"}, {**good, "slug": "Has Spaces"}, {**good, "title": " "},
                {**good, "body": ""}, {**good, "visibility": "secret"}, {**good, "unknown": 1},
                {**good, "tags": ["x"] * 21}, {**good, "category_id": 0}):  # fmt: skip
        await demo_admin.refused("POST", "/kb/articles", bad, 422, "validation_error")
    await demo_admin.refused("POST", "/kb/articles", {**good, "slug": "x-unique-1", "category_id": 999_999}, 422,
                             "unknown_reference")  # fmt: skip
    made = await demo_admin.call("POST", "/kb/articles", {**good, "slug": f"t-{uuid.uuid4().hex[:8]}"}, status=201)
    await demo_admin.refused("PATCH", f"/kb/articles/{made['id']}", {"title": None}, 422, "required")
    await demo_admin.refused("PATCH", f"/kb/articles/{made['id']}", {"slug": "payment-deadlines"}, 409, "slug_taken")


async def test_categories(demo_admin: TenantApi) -> None:
    slug = f"cat-{uuid.uuid4().hex[:8]}"
    cat = await demo_admin.call("POST", "/kb/categories", {"slug": slug, "names": {"pl": "Kat", "en": "Cat"}},
                                status=201)  # fmt: skip
    await demo_admin.refused("POST", "/kb/categories", {"slug": slug, "names": {"en": "Again"}}, 409, "slug_taken")
    await demo_admin.refused("POST", "/kb/categories", {"slug": "x1", "names": {}}, 422, "validation_error")
    await demo_admin.refused("POST", "/kb/categories", {"slug": "x1", "names": {"nope!": "x"}}, 422,
                             "validation_error")  # fmt: skip
    made = await demo_admin.call("POST", "/kb/articles", {
        "language": "en", "slug": f"in-{slug}", "title": "In it", "body": "Body", "category_id": cat["id"],
    }, status=201)  # fmt: skip
    await demo_admin.refused("DELETE", f"/kb/categories/{cat['id']}", None, 409, "category_in_use")
    await demo_admin.call("PATCH", f"/kb/articles/{made['id']}", {"category_id": None})
    renamed = await demo_admin.call("PATCH", f"/kb/categories/{cat['id']}", {"names": {"en": "Renamed"}})
    assert renamed["names"] == {"en": "Renamed"}
    await demo_admin.call("DELETE", f"/kb/categories/{cat['id']}", status=204)
    listed = await demo_admin.call("GET", "/kb/categories")
    demo = ["billing", "complaints", "technical"]  # in their order (other tests add categories of their own)
    assert [c["slug"] for c in listed if c["slug"] in demo] == demo


async def test_other_tenants_find_nothing_of_ours(acme_admin: TenantApi) -> None:
    assert await search(acme_admin, "faktury") == []
    assert await search(acme_admin, "invoice", language="en") == []
    assert await search(acme_admin, "tariffs", status="draft") == []


async def test_hostile_queries_are_only_words(agent: TenantApi) -> None:
    for q in ('"', "*", "NOT", "a OR b", "title:x", "reklamacji)", "(", "'; DROP TABLE kb_articles; --", "ąę:*|&!",
              "NEAR(a b)", "^x", "x" * 200):  # fmt: skip
        await search(agent, q)
    r = await agent.client.get("/api/v1/kb/search", params={"q": "x" * 201}, headers=agent.headers)
    assert r.status_code == 422
    assert await search(agent, "!!! ...") == []  # no words: nothing


async def test_no_words_lists_the_latest_changed(agent: TenantApi) -> None:
    r = await agent.client.get("/api/v1/kb/search", params={"limit": 100}, headers=agent.headers)
    items = r.json()["items"]
    assert items and all(i["status"] == "published" for i in items)
    assert "new-tariffs" not in {i["slug"] for i in items}


async def test_reindex_rebuilds_the_stored_words(center: Infolinia, demo_admin: TenantApi, agent: TenantApi) -> None:
    slug = f"reindex-{uuid.uuid4().hex[:8]}"
    made = await demo_admin.call("POST", "/kb/articles", {
        "language": "pl", "slug": slug, "title": "Zwroty towaru", "body": "Zwroty przyjmujemy przez 30 dni.",
        "status": "published",
    }, status=201)  # fmt: skip
    async with write(center.db, None, SYSTEM) as tx:  # as if indexed by another stemmer
        article = await tx.session.get(KbArticle, made["id"])
        assert article is not None
        article.search_title = article.search_body = "x"
    assert slug not in {h["slug"] for h in await search(agent, "zwrotów", language="pl")}
    async with write(center.db, None, SYSTEM) as tx:
        tenant = await tx.session.scalar(select(Tenant.id).where(Tenant.slug == "demo"))
        assert await reindex(tx, tenant) >= 9
    assert slug in {h["slug"] for h in await search(agent, "zwrotów", language="pl")}
