"""The agent desk end to end in headless Chromium against the real server (``infolinia serve --demo``): an agent logs
in and goes available; a customer opens the chat widget on another site and writes; the offer rings on the desk;
the agent accepts, answers (the customer sees it), schedules a callback for tomorrow 18:00 on the customer's clock
(stored as the right instant in UTC), ends the chat and sets a disposition. Markup from the customer shows as
text; the desk is audited for accessibility, requests nothing from another host and logs no error.

Screenshots (1366x768) go to the test's folder; ``INFOLINIA_SCREENSHOTS=docs/images`` also copies the ones the
docs show."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.a11y import audit
from tests.browser import browser, offsite_requests
from tests.e2e import desk_steps as steps
from tests.live import LiveServer, api_login, running_server

XSS_IN = "<img src=x onerror=window.__pwned=1>"
XSS_OUT = "<script>window.__pwned=2</script><b>bold?</b>"
#: the customer's own time zone, far from the tenant's (Europe/Warsaw), so a wrong zone shows in the stored time
CUSTOMER_ZONE = "America/New_York"
DOC_SHOTS = frozenset({"desk-chat", "desk-callback"})


@pytest.fixture(scope="module")
def live(fresh_db_url, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    db = asyncio.run(fresh_db_url())
    with running_server(db, tmp_path_factory.mktemp("desk-e2e")) as server:
        yield server


async def shot(page: Any, folder: Path, name: str) -> None:
    path = folder / f"ui-{name}.png"
    await page.screenshot(path=str(path))
    docs = os.environ.get("INFOLINIA_SCREENSHOTS")
    if docs and name in DOC_SHOTS:
        shutil.copy(path, Path(docs) / path.name)


async def audited(page: Any, where: str) -> None:
    await page.wait_for_load_state("load")
    problems = await audit(page)
    assert not problems, (where, problems)


async def test_an_agent_takes_a_chat_answers_schedules_a_callback_and_wraps_up(
    live: LiveServer, tmp_path: Path
) -> None:
    shots = tmp_path
    async with httpx.AsyncClient(base_url=live.base_url, timeout=20) as http:
        admin = await api_login(http, "admin@demo.test")
        with steps.widget_site(live.base_url, tmp_path) as site:
            await steps.allow_widget_on(http, site)
            async with browser() as chromium:
                agent_ctx = await chromium.new_context(viewport=steps.VIEWPORT, locale="en-US")
                desk = await agent_ctx.new_page()
                customer = await (await chromium.new_context(locale="en-US")).new_page()
                offsite_customer = offsite_requests(customer)
                errors: list[str] = []
                desk.on("console", lambda m: errors.append(f"{desk.url}: {m.text}") if m.type == "error" else None)
                desk.on("pageerror", lambda e: errors.append(str(e)))
                offsite = offsite_requests(desk)

                await steps.agent_logs_in(desk, live.base_url, "agent1@demo.test")
                await audited(desk, "desk")
                await steps.go_available(desk)
                await shot(desk, shots, "desk-available")

                await steps.customer_starts_chat(customer, site, "Ola <i>Klientka</i>", "ola.desk@example.com", XSS_IN)
                await steps.offer_rings(desk)
                assert "Ola <i>Klientka</i>" in await desk.locator(".offer").first.inner_text()
                await shot(desk, shots, "desk-offer")
                # shortcuts: "/" goes to the knowledge base's field, where "a" is just a letter; Escape leaves it
                await desk.keyboard.press("?")
                assert await desk.locator("#shortcuts").get_attribute("open") is not None
                await desk.keyboard.press("/")
                assert await desk.evaluate("document.activeElement.id") == "kb-q"
                await desk.keyboard.type("a")
                assert await desk.locator("#kb-q").input_value() == "a"
                assert await desk.locator(".offer").count() == 1
                await desk.keyboard.press("Escape")
                await steps.accept_offer(desk, by_key=True)
                await customer.locator(".status").filter(has_text="You are chatting with Agata Nowak").wait_for()

                # the customer's markup is text on the desk, and nothing of it ran
                line = desk.locator(".chat-pane .line.customer .text").first
                await line.wait_for()
                assert await line.text_content() == XSS_IN
                assert await desk.locator(".chat-pane .lines img, .chat-pane .lines script").count() == 0
                await steps.agent_answers(desk, XSS_OUT)
                await steps.customer_sees(customer, "bold?")
                answer = customer.locator(".line.agent").first
                assert await answer.text_content() == XSS_OUT
                assert await desk.evaluate("window.__pwned") is None
                assert await customer.evaluate("window.__pwned") is None
                await audited(desk, "desk with a contact")
                await shot(desk, shots, "desk-chat")

                # the customer lives in New York: the callback's day and time are on their clock
                task_id = int(await desk.locator(".contact").get_attribute("data-task"))
                context = (await http.get(f"/api/v1/tasks/{task_id}/context", headers=admin)).json()
                customer_id = context["customer"]["id"]
                r = await http.patch(f"/api/v1/customers/{customer_id}", json={"timezone": CUSTOMER_ZONE},
                                     headers=admin)  # fmt: skip
                assert r.status_code == 200, r.text
                await desk.reload()
                assert CUSTOMER_ZONE in await desk.locator("#cb-zone").inner_text()
                await steps.schedule_callback(desk, "+48 22 555 01 23")
                zone = ZoneInfo(CUSTOMER_ZONE)
                tomorrow = (datetime.now(zone) + timedelta(days=1)).date()
                expected = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 18, 0, tzinfo=zone).astimezone(UTC)
                found = (await http.get("/api/v1/callbacks", params={"customer_id": customer_id},
                                        headers=admin)).json()["items"]  # fmt: skip
                assert len(found) == 1, found
                assert datetime.fromisoformat(found[0]["due_at"]) == expected
                assert found[0]["personal_agent_id"] is not None and found[0]["number"] == "+48225550123"
                shown = desk.locator(".callback-due").first
                assert re.search(r"6:00:00\sPM", await shown.inner_text()) and CUSTOMER_ZONE in await shown.inner_text()
                mine = desk.locator(".callbacks li[data-callback]").first
                assert re.search(r"6:00:00\sPM", await mine.inner_text())
                await shot(desk, shots, "desk-callback")

                # the agent ends the chat, the customer is told; then the disposition
                await steps.end_chat(desk)
                await customer.locator(".status").filter(has_text="The chat has ended").wait_for()
                code = await steps.set_disposition(desk, "Explained the <b>invoice</b>")
                interaction_id = context["interaction"]["id"]
                stored = (await http.get(f"/api/v1/interactions/{interaction_id}", headers=admin)).json()
                assert stored["disposition_code"] == code
                assert stored["notes"] == "Explained the <b>invoice</b>"
                assert await desk.locator("#disp-notes").input_value() == "Explained the <b>invoice</b>"
                await audited(desk, "desk after the disposition")

                await steps.go_available(desk)
                assert offsite == [] and offsite_customer == []
                assert errors == []
                await agent_ctx.close()
        agent = await api_login(http, "agent1@demo.test")
        await http.put("/api/v1/me/presence", json={"presence": "offline"}, headers=agent)
