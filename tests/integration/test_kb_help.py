"""The public help page of a tenant: only public, published articles, in each language, searchable with inflected
forms; escaped, self-contained and rate-limited."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from infolinia.app import Infolinia
from infolinia.auth.ratelimit import SlidingWindowLimiter
from tests.tenant_api import TenantApi, acme_admin

__all__ = ["acme_admin"]


def no_other_host(html: str) -> None:
    """The page loads nothing and posts nothing elsewhere (links the reader may follow aside)."""
    assert not re.search(r"""(src|srcset|action|data)=["']?(https?:)?//""", html), html[:500]
    assert "<link" not in html and "@import" not in html and "url(" not in html


async def test_the_home_page_lists_public_articles_in_the_tenants_first_language(client: httpx.AsyncClient) -> None:
    r = await client.get("/help/demo")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    page = r.text
    assert '<html lang="pl">' in page and "Demo Telecom: Pomoc" in page
    assert "Terminy płatności faktur" in page and "Rachunki i płatności" in page and "Restart routera" in page
    assert "Obsługa reklamacji" not in page  # internal
    assert "Invoice payment deadlines" not in page  # another language
    assert 'href="/help/demo?lang=en"' in page
    no_other_host(page)
    english = (await client.get("/help/demo", params={"lang": "en"})).text
    assert "Invoice payment deadlines" in english and "Bills and payments" in english
    assert "Issuing a corrected invoice" not in english and "New tariffs" not in english  # internal, draft
    assert "Terminy" not in english


async def test_an_article_page_shows_its_body_and_its_translations(client: httpx.AsyncClient) -> None:
    r = await client.get("/help/demo/pl/payment-deadlines")
    assert r.status_code == 200
    assert "<strong>Termin płatności wynosi 14 dni</strong>" in r.text
    assert 'href="/help/demo/en/payment-deadlines"' in r.text
    no_other_host(r.text)
    for hidden in ("/help/demo/pl/complaint-handling", "/help/demo/en/invoice-correction", "/help/demo/en/new-tariffs",
                   "/help/demo/de/payment-deadlines", "/help/demo/pl/no-such", "/help/nobody", "/help/nobody/search",
                   "/help/demo/pl/" + "x" * 500):  # fmt: skip
        assert (await client.get(hidden)).status_code == 404, hidden


async def test_search_finds_inflected_forms_of_public_articles_only(client: httpx.AsyncClient) -> None:
    r = await client.get("/help/demo/search", params={"q": "reklamacji", "lang": "pl"})
    assert r.status_code == 200
    assert "Jak złożyć reklamację" in r.text and "Obsługa reklamacji" not in r.text
    found = (await client.get("/help/demo/search.json", params={"q": "faktury"})).json()
    # the title's word ranks above the body's
    assert found["language"] == "pl"
    assert [i["slug"] for i in found["items"]] == ["payment-deadlines", "how-to-file-a-complaint"]
    assert found["items"][0]["url"] == "/help/demo/pl/payment-deadlines"
    english = (await client.get("/help/demo/search.json", params={"q": "complaints", "lang": "en"})).json()
    assert [i["title"] for i in english["items"]] == ["How to file a complaint"]
    assert (await client.get("/help/demo/search.json", params={"q": "tariffs", "lang": "en"})).json()["items"] == []
    nothing = await client.get("/help/demo/search", params={"q": "zzzzqqq"})
    assert "Nic nie znaleziono." in nothing.text


async def test_hostile_text_is_shown_as_text(client: httpx.AsyncClient, acme_admin: TenantApi) -> None:
    slug = f"xss-{uuid.uuid4().hex[:8]}"
    evil = '<script>alert("t")</script><img src=x onerror=alert(1)>'
    made = await acme_admin.call("POST", "/kb/articles", {
        "language": "en", "slug": slug, "title": f"Quokka {evil}", "visibility": "public", "status": "published",
        "body": f"Quokka body {evil} [click](javascript:alert(1)) ![p](https://tracker.example/p.png)",
    }, status=201)  # fmt: skip
    try:
        for url in ("/help/acme", f"/help/acme/en/{slug}", "/help/acme/search?q=quokka%22%3E%3Cscript%3E"):
            page = (await client.get(url)).text
            assert "Quokka" in page, url
            assert "<script" not in page and "<img" not in page and 'href="javascript' not in page, url
            no_other_host(page)
        found = (await client.get("/help/acme/search.json", params={"q": "quokka"})).json()
        assert found["items"][0]["title"] == f"Quokka {evil}"  # JSON carries the text as it is, for text nodes
    finally:
        await acme_admin.call("DELETE", f"/kb/articles/{made['id']}", status=204)


@pytest.fixture
def strict_limit(center: Infolinia) -> Iterator[None]:
    kept = center.help_limits.by_ip
    center.help_limits.by_ip = SlidingWindowLimiter(3, 60.0)
    yield
    center.help_limits.by_ip = kept


async def test_searches_are_limited_per_address(client: httpx.AsyncClient, strict_limit: None) -> None:
    for _ in range(3):
        assert (await client.get("/help/demo/search", params={"q": "router"})).status_code == 200
    r = await client.get("/help/demo/search.json", params={"q": "router"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert (await client.get("/help/demo")).status_code == 200  # reading is not limited
