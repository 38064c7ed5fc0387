"""The report and planning pages in Chromium against the real server (``infolinia serve --demo``): a supervisor opens
the contact report of a queue with a constructed history, the interactive chart is drawn from the page's figures
(hovering a point shows its interval and value, choosing another figure redraws it), the monthly summary to print,
then the staffing calculator and a forecast with its error. Every page is audited for accessibility, screenshotted
at 1366x768, and must request nothing from another host and log no error (a CSP violation would).

``INFOLINIA_SCREENSHOTS=docs/images`` also copies the screenshots the docs show there.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from infolinia import demo
from tests.browser import browser, offsite_requests
from tests.e2e import test_admin_console as console
from tests.e2e.test_admin_console import checked
from tests.live import LiveServer, api_login, running_server

VIEWPORT = {"width": 1366, "height": 768}
DOC_SHOTS = frozenset({"reports", "planning"})


@pytest.fixture(scope="module")
def live(fresh_db_url: Callable[[], Awaitable[str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = asyncio.run(fresh_db_url())
    with running_server(db, tmp_path_factory.mktemp("reports-e2e")) as server:
        yield server


async def seed(live: LiveServer) -> int:
    """A queue with 40 contacts from 08:00 local time on 2 February 2011, 37 minutes apart, and three weeks of
    recent history for the forecast."""
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        headers = await api_login(client, "admin@demo.test")
        queue = await client.post("/api/v1/queues", json={"name": f"Billing {uuid.uuid4().hex[:4]}"}, headers=headers)
        assert queue.status_code == 201, queue.text
        queue_id = int(queue.json()["id"])
        for n in range(40):
            created = datetime(2011, 2, 2, 7, 0, tzinfo=UTC) + timedelta(minutes=37 * n)
            answered = created + timedelta(seconds=(n * 7) % 45)
            body = {"channel": "voice" if n % 3 else "chat", "direction": "in", "queue_id": queue_id,
                    "created_at": created.isoformat(), "queued_at": created.isoformat(),
                    "answered_at": answered.isoformat(),
                    "ended_at": (answered + timedelta(seconds=120 + n)).isoformat()}  # fmt: skip
            assert (await client.post("/api/v1/interactions", json=body, headers=headers)).status_code == 201
        today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
        for back in range(1, 22):
            for n in range(1 + back % 4):
                at = today - timedelta(days=back) + timedelta(minutes=11 * n)
                body = {"channel": "voice", "direction": "in", "queue_id": queue_id, "created_at": at.isoformat()}
                assert (await client.post("/api/v1/interactions", json=body, headers=headers)).status_code == 201
        return queue_id


class Shots(console.Shots):
    """The console test's screenshots, with this test's own pictures for the docs."""

    async def take(self, page: Any, name: str, full: bool = False) -> None:
        await super().take(page, name, full)
        if self.docs and name in DOC_SHOTS:
            shutil.copy(self.folder / f"{name}.png", Path(self.docs) / f"ui-{name}.png")


async def test_a_supervisor_reads_the_report_and_plans(live: LiveServer, tmp_path: Path) -> None:
    queue_id = await seed(live)
    shots = Shots(tmp_path / "screenshots")
    async with browser() as chromium:
        context = await chromium.new_context(viewport=VIEWPORT, locale="en-US")
        page = await context.new_page()
        offsite = offsite_requests(page)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        await page.goto(f"{live.base_url}/ui/language?to=en&next=/reports")
        assert "/login?next=" in page.url
        await page.get_by_label("E-mail").fill("supervisor@demo.test")
        await page.get_by_label("Password").fill(demo.PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url("**/reports")
        await checked(page, "reports, default period")

        await page.get_by_label("From", exact=True).fill("2011-02-02")
        await page.get_by_label("To (inclusive)").fill("2011-02-03")
        await page.get_by_label("Interval", exact=True).select_option("60min")
        await page.get_by_label("Queue", exact=True).select_option(str(queue_id))
        await page.get_by_role("button", name="Show").click()
        await page.wait_for_url("**/reports?*")
        await page.wait_for_selector("svg.ichart circle.point")
        await checked(page, "reports")
        assert await page.locator("#period-totals td[data-kpi=offered]").inner_text() == "40"
        # the interactive chart: one point per interval with a figure; hovering shows the interval and the value
        points = page.locator("svg.ichart circle.point")
        assert await points.count() == await page.locator("#report-rows tbody tr").count() == 48
        await points.nth(8).hover()
        tip = page.locator("#report-chart-tip")
        first_row = page.locator("#report-rows tbody tr").nth(8)  # 08:00 local, the first with contacts
        hour = await first_row.locator("th").inner_text()
        offered = await first_row.locator("td[data-kpi=offered]").inner_text()
        assert await tip.inner_text() == f"{hour}: {offered}"
        await page.get_by_label("Figure").select_option("service_level")
        await points.nth(0).hover()
        level = await first_row.locator("td[data-kpi=service_level]").inner_text()
        assert await tip.inner_text() == f"{hour}: {level}"
        await points.nth(0).focus()  # the keyboard reaches each point too
        assert await tip.inner_text() == f"{hour}: {level}"
        await shots.take(page, "reports")
        async with page.expect_download() as download:
            await page.get_by_role("link", name="Download CSV").click()
        saved = await (await download.value).path()
        assert saved is not None
        text = await asyncio.to_thread(Path(saved).read_text)
        assert text.startswith("interval_start,interval_end,offered")

        await page.get_by_role("link", name="Monthly summary to print (2011-02)").click()
        await page.wait_for_url("**/reports/monthly?month=2011-02")
        await checked(page, "monthly")
        assert "monthly report 2011-02" in await page.locator("h1").inner_text()
        await shots.take(page, "monthly")

        await page.goto(f"{live.base_url}/planning")
        await checked(page, "planning")
        await page.get_by_label("Contacts in the interval").fill("120")
        await page.get_by_label("Average handle time (s)").fill("240")
        await page.get_by_role("button", name="Calculate").click()
        await page.wait_for_selector("#staffing-result")
        assert int(await page.locator("#staffing-result td[data-key=agents]").inner_text()) > 32  # 32 Erlangs
        await checked(page, "planning, staffing")
        await page.locator("#f-fc_queue_id").select_option(str(queue_id))
        await page.get_by_label("Days of history").fill("21")
        await page.get_by_role("button", name="Forecast", exact=True).click()
        await page.wait_for_selector("#forecast-error")
        assert await page.locator("#staffing-result").count() == 1  # the calculator's answer stays
        await checked(page, "planning, forecast")
        await shots.take(page, "planning")

        await page.get_by_role("link", name="polski").click()
        await page.wait_for_url("**/planning")
        assert await page.locator("h1").inner_text() == "Planowanie obsady"
        await checked(page, "planning pl")
        await page.goto(f"{live.base_url}/reports?from=2011-02-02&to=2011-02-03&queue_id={queue_id}&group_by=channel")
        await page.wait_for_selector("svg.ichart")
        await checked(page, "reports pl")
        await shots.take(page, "reports-pl")
        await context.close()
    assert not offsite, offsite
    assert not errors, errors
