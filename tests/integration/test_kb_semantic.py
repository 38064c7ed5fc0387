"""Semantic search in the knowledge base with the real all-MiniLM-L6-v2 model (the ``semantic`` extra), loaded once
for the test session by the shared server: questions that share no word with an article find it by meaning, and
not by full text; hybrid keeps the full-text matches; nonsense finds nothing; saving embeds, editing re-embeds;
tenants apart; drafts for editors only. On SQLite and PostgreSQL alike.

Outside CI the tests that need the model skip when it is not installed; in CI (``CI=true``) ``make test`` installs
it, and they fail instead of skipping."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select, update

from infolinia.app import Infolinia
from infolinia.kb import semantic, text
from infolinia.kb.actions import fill_embeddings
from infolinia.kb.semantic import Embedder
from infolinia.store.models import KbArticle
from tests.conftest import Login
from tests.live import EXE
from tests.poll import until
from tests.tenant_api import TenantApi, acme_admin, demo_admin

__all__ = ["acme_admin", "demo_admin"]

BILL = "when must my bill be settled"  # -> "Invoice payment deadlines"
DEAD = "my connection is dead"  # -> "Restarting your router"
PRICES = "upcoming price list"  # -> the draft "New tariffs from next year"
NONSENSE = ("purple elephant banana", "asdf qwerty zxcv", "the weather in Paris", "pizza recipe")


@pytest.fixture
async def model(center: Infolinia) -> Embedder:
    """The server's model, once loaded (the first test waits for it), with the demo's articles embedded."""
    if not semantic.installed():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{semantic.PACKAGE} is not installed: make test installs it (scripts/install-semantic.sh)")
        pytest.skip(f"the semantic model is not installed ({semantic.PACKAGE}: pip install -e '.[semantic]')")
    await until(lambda: center.semantic.state not in ("idle", "loading"), "the model loaded", within_s=300)
    assert center.semantic.ready, center.semantic.status()
    await fill_embeddings(center.db, center.semantic)  # what the start's fill may still be doing
    return center.semantic


@pytest.fixture
async def agent(client: httpx.AsyncClient, login: Login) -> TenantApi:
    return TenantApi(client, await login("agent1@demo.test"))


async def search(api: TenantApi, q: str, **params: Any) -> dict[str, Any]:
    r = await api.client.get("/api/v1/kb/search", params={"q": q, **params}, headers=api.headers)
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found


def titles(found: dict[str, Any]) -> list[str]:
    return [h["title"] for h in found["items"]]


async def stored(center: Infolinia, article_id: int) -> tuple[bytes | None, str | None]:
    async with center.db.session() as s:
        row = (await s.execute(
            select(KbArticle.embedding, KbArticle.embedding_key).where(KbArticle.id == article_id)
        )).one()  # fmt: skip
    return row[0], row[1]


async def shares_no_word(center: Infolinia, title: str, query: str) -> None:
    async with center.db.session() as s:
        article = (await s.scalars(select(KbArticle).where(KbArticle.title == title))).one()
    words = set(f"{article.search_title} {article.search_body}".split())
    assert not {t for alternatives in text.query_terms(query, ["en"]) for t in alternatives} & words, query


async def test_a_question_sharing_no_word_is_found_by_meaning_not_by_full_text(
    center: Infolinia, model: Embedder, agent: TenantApi
) -> None:
    for query, title in ((BILL, "Invoice payment deadlines"), (DEAD, "Restarting your router")):
        await shares_no_word(center, title, query)
        assert titles(await search(agent, query, language="en", mode="text")) == []
        by_meaning = await search(agent, query, language="en", mode="semantic")
        assert by_meaning["semantic"] is True
        assert by_meaning["items"][0]["title"] == title, by_meaning
        assert by_meaning["items"][0]["match"] == "semantic"
        assert semantic.MIN_SIMILARITY <= by_meaning["items"][0]["score"] <= 1.0
        hybrid = await search(agent, query, language="en")  # the default once the model is ready
        assert hybrid["semantic"] is True and hybrid["items"][0]["title"] == title, hybrid
    # the tenant's languages (Polish too) searched: the English article is still found, the Polish ones have no
    # embedding (the model does not understand Polish)
    found = await search(agent, DEAD, mode="semantic")
    assert titles(found)[0] == "Restarting your router" and {h["language"] for h in found["items"]} == {"en"}


async def test_hybrid_keeps_the_full_text_matches(model: Embedder, agent: TenantApi) -> None:
    found = await search(agent, "router restart", language="en", mode="hybrid")
    assert found["items"][0]["title"] == "Restarting your router" and found["items"][0]["match"] == "both"
    invoices = await search(agent, "invoices", language="en", mode="hybrid")
    by_title = {h["title"]: h["match"] for h in invoices["items"]}
    assert by_title["Invoice payment deadlines"] in ("text", "both")
    assert by_title["Issuing a corrected invoice"] in ("text", "both")
    assert set(titles(invoices)[:2]) == {"Invoice payment deadlines", "Issuing a corrected invoice"}
    polish = await search(agent, "reklamacji", language="pl", mode="hybrid")  # Polish: full text alone
    assert "Jak złożyć reklamację" in titles(polish) and {h["match"] for h in polish["items"]} == {"text"}


async def test_nonsense_finds_nothing(model: Embedder, agent: TenantApi) -> None:
    for query in NONSENSE:
        for mode in ("semantic", "hybrid"):
            assert titles(await search(agent, query, mode=mode)) == [], (query, mode)


async def test_saving_embeds_and_editing_embeds_again(
    center: Infolinia, model: Embedder, demo_admin: TenantApi
) -> None:
    slug = f"parking-{uuid.uuid4().hex[:8]}"
    made = await demo_admin.call("POST", "/kb/articles", {
        "language": "en", "slug": slug, "title": "Parking at our offices", "status": "published",
        "body": "Visitors may leave their cars in the **garage** under the building, level -2.",
    }, status=201)  # fmt: skip
    article = f"/kb/articles/{made['id']}"
    blob, key = await stored(center, made["id"])
    assert blob is not None and len(blob) == 4 * semantic.DIMENSIONS and key is not None
    first = np.frombuffer(blob, dtype="<f4")
    assert np.linalg.norm(first) == pytest.approx(1.0, abs=1e-4)
    assert titles(await search(demo_admin, "where can I put my vehicle", mode="semantic"))[:1] == [made["title"]]

    await demo_admin.call("PATCH", article, {"status": "archived"})  # neither title nor body: the same vector
    assert await stored(center, made["id"]) == (blob, key)
    lunch = {"title": "Lunch in our canteen", "body": "The canteen on the ground floor serves soup and salads."}
    await demo_admin.call("PATCH", article, {"status": "published", **lunch})
    changed, changed_key = await stored(center, made["id"])
    assert changed is not None and changed != blob and changed_key != key
    assert made["id"] not in {h["id"] for h in (await search(demo_admin, "where can I put my vehicle",
                                                             mode="semantic"))["items"]}  # fmt: skip
    assert titles(await search(demo_admin, "where do I get food", mode="semantic"))[:1] == ["Lunch in our canteen"]

    await demo_admin.call("POST", f"{article}/restore", {"version": 1})
    restored, restored_key = await stored(center, made["id"])
    assert restored_key == key and restored is not None
    assert np.allclose(np.frombuffer(restored, dtype="<f4"), first, atol=1e-5)

    polish = await demo_admin.call("POST", "/kb/articles", {
        "language": "pl", "slug": slug, "title": "Parking", "status": "published", "body": "Garaż pod budynkiem.",
    }, status=201)  # fmt: skip
    assert await stored(center, polish["id"]) == (None, None)  # a language the model does not understand
    for made_id in (made["id"], polish["id"]):
        await demo_admin.call("DELETE", f"/kb/articles/{made_id}", status=204)


async def test_missing_and_stale_embeddings_are_filled_in(center: Infolinia, model: Embedder) -> None:
    async with center.db.session() as s:
        router = (await s.scalars(select(KbArticle).where(KbArticle.title == "Restarting your router"))).one()
    blob, key = await stored(center, router.id)
    async with center.db.session() as s:
        await s.execute(update(KbArticle).where(KbArticle.id == router.id).values(embedding=None, embedding_key=None))
        await s.commit()
    assert await fill_embeddings(center.db, model, router.tenant_id) == 1
    again, again_key = await stored(center, router.id)
    assert again_key == key and again is not None and blob is not None
    assert np.allclose(np.frombuffer(again, dtype="<f4"), np.frombuffer(blob, dtype="<f4"), atol=1e-5)
    async with center.db.session() as s:  # made by another model or from another text: stale
        await s.execute(update(KbArticle).where(KbArticle.id == router.id).values(embedding_key="x" * 64))
        await s.commit()
    assert await fill_embeddings(center.db, model, router.tenant_id) == 1
    assert await fill_embeddings(center.db, model, router.tenant_id) == 0
    assert (await stored(center, router.id))[1] == key


async def test_tenants_are_apart(model: Embedder, demo_admin: TenantApi, acme_admin: TenantApi) -> None:
    slug = f"quokka-{uuid.uuid4().hex[:8]}"
    made = await acme_admin.call("POST", "/kb/articles", {
        "language": "en", "slug": slug, "title": "Feeding the quokkas", "status": "published",
        "body": "Quokkas eat leaves, grasses and the stems of plants.",
    }, status=201)  # fmt: skip
    try:
        question = "what do quokkas like to eat"
        assert made["id"] in {h["id"] for h in (await search(acme_admin, question, mode="semantic"))["items"]}
        for mode in ("semantic", "hybrid"):
            assert made["id"] not in {h["id"] for h in (await search(demo_admin, question, mode=mode))["items"]}
    finally:
        await acme_admin.call("DELETE", f"/kb/articles/{made['id']}", status=204)


async def test_drafts_are_found_by_meaning_for_editors_only(
    model: Embedder, agent: TenantApi, demo_admin: TenantApi
) -> None:
    draft = "New tariffs from next year"
    assert draft not in titles(await search(agent, PRICES, mode="semantic"))
    r = await agent.client.get("/api/v1/kb/search", params={"q": PRICES, "mode": "semantic", "status": "draft"},
                               headers=agent.headers)  # fmt: skip
    assert r.status_code == 403
    assert titles(await search(demo_admin, PRICES, mode="semantic", status="draft")) == [draft]
    assert titles(await search(demo_admin, PRICES, mode="semantic", language="en")) == []  # published only


async def test_the_help_page_searches_public_articles_by_meaning(model: Embedder, client: httpx.AsyncClient) -> None:
    found = (await client.get("/help/demo/search.json", params={"q": DEAD, "lang": "en"})).json()
    assert [i["slug"] for i in found["items"]] == ["router-restart"]
    # the internal "Issuing a corrected invoice" is close in meaning, and never shown there
    found = (await client.get("/help/demo/search.json", params={"q": "fixing a wrong invoice", "lang": "en"})).json()
    assert "invoice-correction" not in {i["slug"] for i in found["items"]}
    page = await client.get("/help/demo/search", params={"q": BILL, "lang": "en"})
    assert "Invoice payment deadlines" in page.text


async def test_health_says_whether_the_model_is_loaded(model: Embedder, client: httpx.AsyncClient) -> None:
    report = (await client.get("/healthz")).json()
    assert report["subsystems"]["kb_semantic"] == {"up": True, "state": "ready", "model": semantic.MODEL_NAME}


async def test_without_the_model_search_is_full_text_and_semantic_is_refused(
    center: Infolinia, agent: TenantApi
) -> None:
    kept = center.semantic
    center.semantic = Embedder("false")
    try:
        found = await search(agent, "router restart", language="en")
        assert found["semantic"] is False and titles(found) == ["Restarting your router"]
        assert found["items"][0]["match"] == "text"
        for mode in ("semantic", "hybrid"):
            r = await agent.client.get("/api/v1/kb/search", params={"q": DEAD, "mode": mode}, headers=agent.headers)
            assert r.status_code == 409 and r.json()["error"]["code"] == "semantic_unavailable", r.text
            assert r.json()["error"]["details"] == {"state": "off"}
        r = await agent.client.get("/api/v1/kb/search", params={"q": DEAD, "mode": "vibes"}, headers=agent.headers)
        assert r.status_code == 422
        report = (await agent.client.get("/healthz")).json()
        assert report["subsystems"]["kb_semantic"]["state"] == "off"
    finally:
        center.semantic = kept


async def reindex_acme(url: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [str(EXE), "kb", "reindex", "--tenant", "acme", "--db", url]
    return await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=300,
                                   stdin=subprocess.DEVNULL, env={**os.environ, **env})  # fmt: skip


async def test_kb_reindex_embeds_what_was_saved_without_the_model(
    center: Infolinia, model: Embedder, acme_admin: TenantApi
) -> None:
    kept = center.semantic
    center.semantic = Embedder("false")  # saved while the model is off
    try:
        made = await acme_admin.call("POST", "/kb/articles", {
            "language": "en", "slug": f"opening-{uuid.uuid4().hex[:8]}", "title": "Opening hours",
            "status": "published", "body": "We are open from 8 to 20 on working days.",
        }, status=201)  # fmt: skip
    finally:
        center.semantic = kept
    try:
        assert await stored(center, made["id"]) == (None, None)
        r = await reindex_acme(center.settings.database_url)
        assert r.returncode == 0 and "embedded 1 article(s)" in r.stdout, (r.stdout, r.stderr)
        blob, key = await stored(center, made["id"])
        assert blob is not None and key is not None
        assert made["id"] in {
            h["id"] for h in (await search(acme_admin, "when are you open", mode="semantic"))["items"]
        }
        r = await reindex_acme(center.settings.database_url, INFOLINIA_KB_SEMANTIC="false")
        assert r.returncode == 0 and "semantic search: off; no embeddings made" in r.stdout, (r.stdout, r.stderr)
    finally:
        await acme_admin.call("DELETE", f"/kb/articles/{made['id']}", status=204)
