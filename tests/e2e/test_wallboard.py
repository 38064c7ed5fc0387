"""The wallboard in Chromium against the real server (``infolinia serve --demo``): a supervisor opens it; then,
through the REST API, a chat arrives in a queue, an agent goes on a break, a callback is scheduled for tomorrow
18:00; each shows on the board within 1 s of the call's completion (Playwright's expect with a 1 s timeout: the
acceptance condition, not a benchmark). The page is audited for accessibility in both modes, at 1366x768 and
1920x1080, must fit the width, request nothing from another host and log no error (a CSP violation would).

``INFOLINIA_SCREENSHOTS=docs/images`` also copies the screenshots the docs show there.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from infolinia import demo
from tests.a11y import audit
from tests.browser import browser, offsite_requests
from tests.live import LiveServer, api_login, running_server

LAPTOP = {"width": 1366, "height": 768}
SCREEN = {"width": 1920, "height": 1080}
#: the screenshots the docs show (INFOLINIA_SCREENSHOTS copies these)
DOC_SHOTS = frozenset({"wallboard", "wallboard-tv"})
LIVE_S = 1.0  # an action must show within this


@pytest.fixture(scope="module")
def live(fresh_db_url: Callable[[], Awaitable[str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = asyncio.run(fresh_db_url())
    with running_server(url, tmp_path_factory.mktemp("wallboard-e2e"), "--demo-always-open") as server:
        yield server


async def shot(page: Any, folder: Path, name: str, full: bool = False) -> None:
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full)
    docs = os.environ.get("INFOLINIA_SCREENSHOTS")
    if docs and name in DOC_SHOTS:
        shutil.copy(path, Path(docs) / f"ui-{name}.png")


async def checked(page: Any, where: str, width: int) -> None:
    await page.wait_for_load_state("load")
    problems = await audit(page)
    assert not problems, (where, problems)
    assert await page.evaluate("document.documentElement.scrollWidth") <= width, f"{where}: wider than the screen"


async def test_a_supervisor_sees_each_step_within_a_second(live: LiveServer, tmp_path: Path) -> None:
    from playwright.async_api import expect

    folder = tmp_path / "screenshots"
    folder.mkdir()
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as api:
        admin = await api_login(api, "admin@demo.test")
        agent = await api_login(api, "agent1@demo.test")
        supervisor = await api_login(api, "supervisor@demo.test")

        async def call(method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
            r = await api.request(method, f"/api/v1{path}", json=body, headers=headers)
            assert r.status_code in (200, 201), f"{method} {path}: {r.status_code} {r.text}"
            return r.json()

        # a queue that nobody serves (its team has no members), so that a chat waits in it
        team = await call("POST", "/teams", admin, {"name": "Night shift"})
        queue = await call("POST", "/queues", admin, {"name": "Premium line", "team_id": team["id"],
                                                      "business_hours": False})  # fmt: skip
        now = datetime.now(UTC)
        for ago, answer_s, end_s in ((600, 12, 200), (420, 45, 300), (300, None, 40), (120, 8, 90)):
            begun = now - timedelta(seconds=ago)  # answered in 12, 45 and 8 s; one hung up after 40 s
            body = {
                "channel": "voice",
                "direction": "in",
                "queue_id": queue["id"],
                "created_at": begun.isoformat(),
                "queued_at": begun.isoformat(),
                "ended_at": (begun + timedelta(seconds=end_s)).isoformat(),
            }
            if answer_s is not None:
                body["answered_at"] = (begun + timedelta(seconds=answer_s)).isoformat()
            await call("POST", "/interactions", admin, body)
        renewals = {"name": "Contract renewals", "purpose": "service", "queue_id": queue["id"], "mode": "progressive"}
        campaign = await call("POST", "/campaigns", admin, renewals)
        r = await api.post(f"/api/v1/campaigns/{campaign['id']}/contacts", headers=admin | {"content-type": "text/csv"},
                           content=b"number\n+48600200300\n+48600200301\n+48600200302\n")  # fmt: skip
        assert r.status_code in (200, 201), r.text
        await call("PATCH", f"/campaigns/{campaign['id']}", admin, {"status": "running"})
        me = await call("GET", "/auth/me", agent)
        board = await call("GET", "/wallboard", supervisor)
        scheduled = board["callbacks"]["open"]

        async with browser() as chromium:
            context = await chromium.new_context(viewport=LAPTOP, locale="en-US")
            await context.add_cookies([{"name": "infolinia_lang", "value": "en", "url": live.base_url}])
            page = await context.new_page()
            offsite = offsite_requests(page)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            await page.goto(f"{live.base_url}/wallboard")
            assert "/login?next=" in page.url
            await page.get_by_label("E-mail").fill("supervisor@demo.test")
            await page.get_by_label("Password").fill(demo.PASSWORD)
            await page.get_by_role("button", name="Log in").click()
            await page.wait_for_url("**/wallboard")
            await expect(page.locator("#wb-live")).to_have_text("Live", timeout=10_000)  # the stream is open
            await checked(page, "wallboard", LAPTOP["width"])
            row = page.locator(f'tr[data-queue="{queue["id"]}"]')
            await expect(row.locator('[data-field="waiting"]')).to_have_text("0")
            # the last 30 minutes: 4 offered, 3 answered, 2 of them within 20 s; 1 abandoned; ASA (12+45+8)/3 s
            await expect(row.locator('[data-field="sl-30"]')).to_contain_text("50%")
            await expect(row.locator('[data-field="sl-30"] .wb-low')).to_have_count(1)  # below the 80 % target
            await expect(row).to_have_class("wb-below")

            # 1. a chat arrives in the queue
            task = await call("POST", "/tasks", admin, {"queue_id": queue["id"], "channel": "chat"})
            await expect(row.locator('[data-field="waiting"]')).to_have_text("1", timeout=LIVE_S * 1000)
            await expect(row.locator('[data-field="longest"]')).to_have_text("0:02", timeout=3000)  # it counts

            # 2. an agent goes on a break
            await call("PUT", "/me/presence", agent, {"presence": "break", "reason": "Lunch"})
            agent_row = page.locator(f'tr[data-agent="{me["id"]}"]')
            await expect(agent_row).to_contain_text("Break: Lunch", timeout=LIVE_S * 1000)
            await expect(agent_row.locator("td.num")).to_have_text("0:01", timeout=3000)

            # 3. a callback is scheduled for tomorrow 18:00 on the tenant's clock
            zone = ZoneInfo("Europe/Warsaw")
            tomorrow = (datetime.now(zone) + timedelta(days=1)).replace(hour=18, minute=0, second=0, microsecond=0)
            number = f"+4860{uuid.uuid4().int % 10**7:07d}"
            await call("POST", "/callbacks", admin, {"queue_id": queue["id"], "number": number,
                                                     "at": tomorrow.isoformat()})  # fmt: skip
            await expect(page.locator('[data-field="open"] dd')).to_have_text(str(scheduled + 1), timeout=LIVE_S * 1000)
            await checked(page, "wallboard after the steps", LAPTOP["width"])
            campaign_row = page.locator(f'tr[data-campaign="{campaign["id"]}"]')
            await expect(campaign_row.locator("td").first).to_have_text("3")  # contacts left, nobody to call them
            await shot(page, folder, "wallboard", full=True)

            # the large-screen mode: no navigation, big figures; at a laptop's and a wall screen's size
            await page.get_by_role("link", name="Large-screen mode").click()
            await page.wait_for_url("**/wallboard?tv=1")
            assert await page.locator("header nav").count() == 0
            await expect(page.locator("#wb-live")).to_have_text("Live", timeout=10_000)
            await checked(page, "large screen 1366", LAPTOP["width"])
            await page.set_viewport_size(SCREEN)
            await checked(page, "large screen 1920", SCREEN["width"])
            big = await row.locator('[data-field="waiting"]').evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
            assert big >= 32
            await shot(page, folder, "wallboard-tv")
            await call("DELETE", f"/tasks/{task['id']}", admin)  # the customer left: the queue empties, live
            await expect(row.locator('[data-field="waiting"]')).to_have_text("0", timeout=LIVE_S * 1000)

            # in Polish
            await page.set_viewport_size(LAPTOP)
            await context.add_cookies([{"name": "infolinia_lang", "value": "pl", "url": live.base_url}])
            await page.goto(f"{live.base_url}/wallboard")
            assert await page.locator("h1").inner_text() == "Tablica nadzoru"
            await expect(page.locator("#wb-live")).to_have_text("Na żywo", timeout=10_000)
            await checked(page, "wallboard pl", LAPTOP["width"])
            await shot(page, folder, "wallboard-pl")
            await context.close()

        await call("PUT", "/me/presence", agent, {"presence": "offline"})
        assert offsite == [], offsite
        assert errors == [], errors
