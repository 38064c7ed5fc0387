"""The admin console in Chromium against the real server (``infolinia serve --demo``, always open): an admin logs
in, adds digit 5 -> an announcement to the demo IVR menu and saves; a broken flow is refused with the problem shown
next to its node (on saving, and by htmx's check without saving); a SIPp call then follows the new branch. Every
page is audited for accessibility, screenshotted at 1366x768 in Polish and English, and must request nothing from
another host and log no error (a CSP violation would).

``INFOLINIA_SCREENSHOTS=docs/images`` also copies the screenshots the docs show there (how they are made).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infolinia import demo
from tests.a11y import audit
from tests.browser import browser, offsite_requests
from tests.integration.test_calls_sipp import last_call, ok
from tests.live import LiveServer, voice_server
from tests.sipp import bye, call_scenario, dtmf, needs_sipp, pause, run_call

pytestmark = needs_sipp

VIEWPORT = {"width": 1366, "height": 768}
#: the screenshots the docs show (INFOLINIA_SCREENSHOTS copies these)
DOC_SHOTS = frozenset({"ivr-editor", "ivr-problem", "users-pl", "queues", "settings", "campaign", "sla"})
NEWS = {"id": "news", "type": "announce", "prompt": "payment_deadlines", "next": "main_menu"}


@pytest.fixture(scope="module")
def server(fresh_db_url, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:  # type: ignore[no-untyped-def]
    url = asyncio.run(fresh_db_url())
    with voice_server(url, tmp_path_factory.mktemp("ui-e2e"), 40000) as found:
        yield found


class Shots:
    """Screenshots into the test's folder (and the docs' images when asked)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.docs = os.environ.get("INFOLINIA_SCREENSHOTS")

    async def take(self, page: Any, name: str, full: bool = False) -> None:
        path = self.folder / f"{name}.png"
        await page.screenshot(path=str(path), full_page=full)
        if self.docs and name in DOC_SHOTS:
            shutil.copy(path, Path(self.docs) / f"ui-{name}.png")


def console_error(message: Any) -> bool:
    """An error in the console, but for the 422 of a refused form (the browser notes every 4xx status)."""
    return bool(message.type == "error" and "status of 422" not in message.text)


async def checked(page: Any, where: str) -> None:
    await page.wait_for_load_state("load")
    problems = await audit(page)
    assert not problems, (where, problems)


async def node_field(page: Any, node_id: str) -> Any:
    return page.locator(f'li[data-node="{node_id}"] textarea')


async def test_an_admin_adds_a_menu_branch_that_a_call_then_follows(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    shots = Shots(tmp_path / "screenshots")
    async with browser() as chromium:
        context = await chromium.new_context(viewport=VIEWPORT, locale="en-US")
        page = await context.new_page()
        offsite = offsite_requests(page)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if console_error(m) else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        await page.goto(f"{live.base_url}/admin/ivr")  # not logged in: the login page, then back here
        assert "/login?next=" in page.url
        await checked(page, "login")
        await page.keyboard.press("Tab")
        skip = page.locator("a.skip")
        assert await skip.evaluate("e => e === document.activeElement")
        assert await skip.evaluate("e => getComputedStyle(e).outlineStyle") != "none"  # visible focus
        await page.get_by_label("E-mail").fill("admin@demo.test")
        await page.get_by_label("Password").fill(demo.PASSWORD)
        await shots.take(page, "login")
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url("**/admin/ivr")
        # the demo admin's own language is Polish
        assert await page.locator("h1").inner_text() == "Przepływy IVR"
        await checked(page, "flows pl")
        await shots.take(page, "ivr-list-pl")
        await page.get_by_role("link", name="English").click()
        await page.wait_for_url("**/admin/ivr")
        assert await page.locator("h1").inner_text() == "IVR flows"

        await page.get_by_role("link", name="Main menu").click()
        await page.wait_for_url("**/admin/ivr/*")
        await page.wait_for_selector("svg.flow-diagram")
        await checked(page, "editor")
        menu = json.loads(await (await node_field(page, "main_menu")).input_value())
        menu["digits"]["5"] = "news"
        await (await node_field(page, "main_menu")).fill(json.dumps(menu))
        await page.get_by_label("New node").fill(json.dumps(NEWS))
        await page.get_by_role("button", name="Save", exact=True).click()
        await page.get_by_role("status").filter(has_text="Saved: version 2.").wait_for()
        assert await page.locator('svg.flow-diagram g[data-node="news"]').count() == 1
        await checked(page, "editor saved")
        await shots.take(page, "ivr-editor", full=True)

        # a branch to a node that does not exist: refused, the problem next to the menu's node
        menu["digits"]["6"] = "nowhere"
        await (await node_field(page, "main_menu")).fill(json.dumps(menu))
        await page.get_by_role("button", name="Check without saving").click()  # htmx: the editor swapped in place
        problem = page.locator('li[data-node="main_menu"] ul.problem')
        await problem.wait_for()
        assert "nowhere" in await problem.inner_text()
        assert page.url.endswith("?saved=2")  # no navigation: htmx swapped the editor in place
        await page.get_by_role("button", name="Save", exact=True).click()
        await page.wait_for_url(re.compile(r"/admin/ivr/\d+$"))  # the form posted back, not the saved page
        await page.wait_for_selector("#problems")
        assert "digits.6" in await page.locator('li[data-node="main_menu"] ul.problem').inner_text()
        assert await page.locator('li[data-node="main_menu"] textarea').get_attribute("aria-invalid") == "true"
        assert await page.locator("li.has-problem").count() == 1
        await checked(page, "editor with a problem")
        await page.locator('li[data-node="main_menu"]').scroll_into_view_if_needed()
        await shots.take(page, "ivr-problem")
        await page.goto(f"{live.base_url}/admin/ivr")
        assert "Main menu" in await page.locator("tbody").inner_text()
        assert await page.locator("tbody tr td:nth-child(2)").first.inner_text() == "2"  # still version 2

        pages = (("/admin", "overview"), ("/admin/users", "users"), ("/admin/queues", "queues"),
                 ("/admin/numbers", "numbers"), ("/admin/kb", "kb"), ("/admin/scripts", "scripts"),
                 ("/admin/settings", "settings"), ("/admin/trunks", "trunks"), ("/admin/sla", "sla"))  # fmt: skip
        for path, name in pages:
            await page.goto(live.base_url + path)
            await checked(page, path)
            await shots.take(page, name)
        await page.goto(f"{live.base_url}/admin/trunks")
        await page.get_by_role("link", name="local", exact=True).click()
        await page.wait_for_url("**/admin/trunks/*")
        await checked(page, "trunk")
        await page.goto(f"{live.base_url}/admin/campaigns")
        await page.get_by_label("Name", exact=True).fill("E2E campaign")
        csv_file = {"name": "contacts.csv", "mimeType": "text/csv", "buffer": b"number\n221234567\nnope\n"}
        await page.set_input_files("#f-file", files=[csv_file])
        await page.get_by_role("button", name="Create").click()
        await page.wait_for_selector("#row-errors")
        await page.get_by_role("link", name="E2E campaign").click()
        await page.wait_for_url("**/admin/campaigns/*")
        await checked(page, "campaign")
        await shots.take(page, "campaign", full=True)
        await page.goto(f"{live.base_url}/admin/queues")
        await page.get_by_role("link", name="Billing", exact=True).click()
        await page.wait_for_url("**/admin/queues/*")
        await checked(page, "queue")
        await page.goto(f"{live.base_url}/admin/kb")
        await page.locator("tbody a").first.click()
        await page.wait_for_url("**/admin/kb/*")
        await page.wait_for_selector("#preview-heading")
        await checked(page, "article")
        await page.goto(f"{live.base_url}/admin/scripts")
        await page.locator("tbody a").first.click()
        await page.wait_for_url("**/admin/scripts/*")
        await page.wait_for_selector("#f-definition")
        await checked(page, "script")
        await page.goto(f"{live.base_url}/admin/users")
        await page.get_by_role("link", name="polski").click()
        await page.wait_for_url("**/admin/users")
        assert await page.locator("h1").inner_text() == "Użytkownicy i konsultanci"
        await checked(page, "users pl")
        await shots.take(page, "users-pl")
        await page.get_by_role("link", name="Bartosz Kowalski").click()
        await page.wait_for_url("**/admin/users/*")
        assert await page.get_by_label("Umiejętności").input_value() == "billing=4, technical=9"
        await checked(page, "agent pl")
        await shots.take(page, "agent-pl")
        await page.get_by_role("button", name="Wyloguj się").click()
        await page.wait_for_url("**/login")

        assert offsite == [], offsite
        assert errors == [], errors
        await context.close()

    # a call now: digit 5 plays the new announcement and returns to the menu, where 2 goes to Technical
    steps = (pause(1500), dtmf("5"), pause(2500), dtmf("2"), pause(2500), bye())
    ok(run_call(sip_port, tmp_path / "call", call_scenario(*steps)), tmp_path / "call")
    path = last_call(live)["ivr_path"]
    assert path[:3] == ["hours", "greeting", "main_menu"], path
    assert path[3:5] == ["news", "main_menu"], path
    assert path[-1] == "technical", path
