"""A campaign's own page in the console (``/admin/campaigns/{id}``) over HTTP (in process, SQLite or PostgreSQL):
settings and pacing saved through ``update_campaign``, the status changed by its transitions, contacts by status a
page at a time, more contacts from a CSV file with the refused rows listed; permissions, CSRF and tenants. The
campaigns that run belong to a tenant of their own (no agents, so nothing is dialed)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from tests.conftest import Login
from tests.ui_helpers import a_platform_admin, csrf_of, own_tenant, problem_of, ui_client, work_on

API = "/api/v1"


def a_pl_number() -> str:
    return f"22{uuid.uuid4().int % 10_000_000:07d}"


def listed_numbers(html: str) -> list[str]:
    table = re.search(r'<table id="contact-list">(.*?)</table>', html, re.S)
    assert table, "no contact list"
    return re.findall(r"<tr>\s*<td>(\+?\d+)</td>", table.group(1))


async def a_campaign(client: httpx.AsyncClient, headers: dict[str, str], contacts: int) -> dict[str, Any]:
    queue = (await client.post(f"{API}/queues", json={"name": f"Q {uuid.uuid4().hex[:6]}"}, headers=headers)).json()
    body = {"name": f"UI run {uuid.uuid4().hex[:6]}", "purpose": "service", "queue_id": queue["id"]}
    r = await client.post(f"{API}/campaigns", json=body, headers=headers)
    assert r.status_code == 201, r.text
    campaign: dict[str, Any] = r.json()
    csv_text = "number,name\n" + "".join(f"{a_pl_number()},Person {i}\n" for i in range(contacts))
    r = await client.post(f"{API}/campaigns/{campaign['id']}/contacts", content=csv_text.encode(),
                          headers={**headers, "content-type": "text/csv"})  # fmt: skip
    assert r.status_code == 200 and r.json()["accepted"] == contacts, r.text
    return campaign


async def test_settings_status_and_contacts_of_a_campaign(
    http_app: Any, center: Any, client: httpx.AsyncClient, login: Login
) -> None:
    slug, headers = await own_tenant(center, client, login)
    campaign = await a_campaign(client, headers, 60)
    url = f"/admin/campaigns/{campaign['id']}"
    async with ui_client(http_app, await a_platform_admin(center)) as browser:
        await work_on(browser, slug)
        assert f'href="{url}"' in (await browser.get("/admin/campaigns")).text
        page = await browser.get(url)
        assert page.status_code == 200 and 'value="start"' in page.text and 'value="pause"' not in page.text
        first = listed_numbers(page.text)
        assert len(first) == 50 and "after=" in page.text  # a page of 50, and a link to the next
        after = re.search(r'after=(\d+)#contacts" rel="next"', page.text)
        assert after is not None
        rest = listed_numbers((await browser.get(f"{url}?after={after.group(1)}")).text)
        assert len(rest) == 10 and not set(rest) & set(first)
        assert len(listed_numbers((await browser.get(f"{url}?status=done")).text)) == 0
        assert len(listed_numbers((await browser.get(f"{url}?status=pending&after=x")).text)) == 50
        token = csrf_of(page.text)
        settings = {"csrf": token, "name": campaign["name"], "mode": "progressive", "max_attempts": "30",
                    "spacing_minutes": "15", "abandon_cap": "2,5", "preview_timeout_s": "90",
                    "preview_timeout_action": "dial", "detect_machines": "on"}  # fmt: skip
        r = await browser.post(url, data=settings)
        assert r.status_code == 422 and problem_of(r.text, "max_attempts") and 'value="30"' in r.text
        r = await browser.post(url, data=settings | {"max_attempts": "4", "abandon_cap": "9"})
        assert r.status_code == 422 and problem_of(r.text, "abandon_cap") and 'value="9"' in r.text
        r = await browser.post(url, data=settings | {"max_attempts": "4", "name": ""})
        assert r.status_code == 422 and problem_of(r.text, "name")
        r = await browser.post(url, data=settings | {"max_attempts": "4", "abandon_cap": "lots"})
        assert r.status_code == 422 and problem_of(r.text, "abandon_cap")
        r = await browser.post(url, data=settings | {"max_attempts": "4"})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?saved=settings", r.text
        for button, status in (("start", "running"), ("pause", "paused"), ("resume", "running"), ("stop", "finished")):
            r = await browser.post(f"{url}/status", data={"csrf": token, "to": button})
            assert r.status_code == 303, (button, r.text)
            page = await browser.get(r.headers["location"])
            assert f'<strong id="campaign-status">{status}</strong>' in page.text
        r = await browser.post(f"{url}/status", data={"csrf": token, "to": "start"})  # finished is final
        assert r.status_code == 409 and 'id="status-problem"' in r.text
        r = await browser.post(f"{url}/status", data={"csrf": token, "to": "explode"})
        assert r.status_code == 422
    after_all = (await client.get(f"{API}/campaigns/{campaign['id']}", headers=headers)).json()
    assert after_all["status"] == "finished" and after_all["max_attempts"] == 4 and after_all["mode"] == "progressive"
    assert after_all["abandon_cap"] == 0.025 and after_all["preview_timeout_action"] == "dial"
    assert after_all["detect_machines"] is True and after_all["spacing_minutes"] == 15
    audit = (await client.get(f"{API}/audit?action=campaign.updated", headers=headers)).json()["items"]
    assert sum(1 for e in audit if e["object_id"] == str(campaign["id"])) == 5


async def test_more_contacts_from_a_csv_with_the_refused_rows_listed(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login("admin@demo.test")
    campaign = await a_campaign(client, headers, 1)
    url = f"/admin/campaigns/{campaign['id']}"
    good = a_pl_number()
    csv_text = f"number,name\n{good},Good <b>one</b>\nnot a number,Bad\n{good},Twice\n"
    async with ui_client(http_app, "admin@demo.test") as browser:
        token = csrf_of((await browser.get(url)).text)
        files = {"file": ("more.csv", csv_text.encode(), "text/csv")}
        r = await browser.post(f"{url}/contacts", data={"csrf": token}, files=files)
        assert r.status_code == 200 and 'role="status"' in r.text
        table = re.search(r'<table id="row-errors">(.*?)</table>', r.text, re.S)
        assert table is not None
        assert [line for line, *_ in re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>", table.group(1))] == ["3", "4"]
        assert "Good &lt;b&gt;one&lt;/b&gt;" in r.text and "<b>one</b>" not in r.text
        r = await browser.post(f"{url}/contacts", data={"csrf": token},
                               files={"file": ("x.csv", b"phone\n123\n", "text/csv")})  # fmt: skip
        assert r.status_code == 422 and problem_of(r.text, "file")
        r = await browser.post(f"{url}/contacts", data={"csrf": "forged"}, files=files)
        assert r.status_code == 403 and "csrf_failed" in r.text
    contacts = (await client.get(f"{API}/campaigns/{campaign['id']}/contacts", headers=headers)).json()["items"]
    assert len(contacts) == 2 and any(c["number"].endswith(good) for c in contacts)
    async with ui_client(http_app, "agent1@demo.test") as browser:
        page = await browser.get(url)  # agents read a campaign; nothing to change
        assert page.status_code == 200 and f'action="{url}/contacts"' not in page.text and "disabled" in page.text
        r = await browser.post(f"{url}/status", data={"csrf": csrf_of(page.text), "to": "start"})
        assert r.status_code == 403 and "campaigns.manage" in r.text
    async with ui_client(http_app, "admin@acme.test") as browser:
        assert (await browser.get(url)).status_code == 404
        token = csrf_of((await browser.get("/admin/campaigns")).text)
        assert (await browser.post(f"{url}/status", data={"csrf": token, "to": "start"})).status_code == 404
    assert (await client.get(f"{API}/campaigns/{campaign['id']}", headers=headers)).json()["status"] == "draft"
