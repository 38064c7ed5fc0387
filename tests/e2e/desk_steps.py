"""The steps of an agent's day on the desk, in the browser, for the end-to-end tests to share (the desk's own test,
and any test that watches these steps from elsewhere): each step does what a person does and waits until the page
shows it happened."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from infolinia.demo import DEMO_WIDGET_KEY, PASSWORD
from tests.live import api_login, free_port

VIEWPORT = {"width": 1366, "height": 768}


@contextmanager
def widget_site(base_url: str, folder: Path) -> Iterator[str]:
    """Another origin: a static page embedding the chat widget from the server, as a company's site would."""
    (folder / "index.html").write_text(f"""<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>A shop</h1>
<script src="{base_url}/chat/widget.js" data-key="{DEMO_WIDGET_KEY}" async></script></body></html>""")
    port = free_port()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


async def allow_widget_on(http: httpx.AsyncClient, site: str) -> None:
    """The tenant admin lets the site embed the chat widget."""
    admin = await api_login(http, "admin@demo.test")
    r = await http.patch("/api/v1/chat/settings", json={"allowed_origins": [site]}, headers=admin)
    assert r.status_code == 200, r.text


async def agent_logs_in(page: Any, base_url: str, email: str, language: str = "English") -> None:
    """Open the desk: the login page first, then the desk, switched to ``language`` (the demo agents' own setting
    is Polish)."""
    await page.goto(f"{base_url}/desk")
    assert "/login?next=" in page.url
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url("**/desk")
    await page.get_by_role("link", name=language).click()
    await page.wait_for_url("**/desk")
    await page.locator("#desk").wait_for()


async def go_available(page: Any) -> None:
    await page.locator("#go-ready").click()
    await page.locator('.desk-state[data-state="available"]').wait_for()


async def customer_starts_chat(page: Any, site: str, name: str, email: str, text: str) -> None:
    """The customer opens the widget on the site, fills the pre-chat form and writes ``text``."""
    await page.goto(site + "/index.html")
    await page.get_by_role("button", name="Chat with us").click()
    await page.locator("#ic-name").fill(name)
    await page.locator("#ic-email").fill(email)
    await page.locator("#ic-topic").select_option("question")
    await page.get_by_role("button", name="Start chat").click()
    await page.locator(".status").filter(has_text="Waiting for an agent").wait_for()
    box = page.get_by_role("textbox", name="Your message")
    await box.fill(text)
    await box.press("Enter")
    await page.locator(".line.customer.pending").wait_for(state="detached")


async def offer_rings(page: Any) -> None:
    """The offer shows on the desk (live, without a reload) and the desk rang for it."""
    await page.locator(".offer button.accept").wait_for()
    await page.wait_for_function("() => Number(document.getElementById('desk').dataset.rings || 0) >= 1")


async def accept_offer(page: Any, by_key: bool = False) -> None:
    """Accept the first offer (its button, or the ``A`` shortcut): its contact opens, its chat pane too."""
    if by_key:
        await page.locator("body").focus()
        await page.keyboard.press("a")
    else:
        await page.locator(".offer button.accept").first.click()
    await page.get_by_role("status").filter(has_text="Contact accepted.").wait_for()
    await page.locator(".chat-pane").first.wait_for()


async def agent_answers(page: Any, text: str) -> None:
    pane = page.locator(".chat-pane").first
    await pane.locator(".chat-input").fill(text)
    await pane.get_by_role("button", name="Send").click()
    await pane.locator(".line.agent:not(.pending)").last.wait_for()


async def customer_sees(page: Any, text: str) -> None:
    line = page.locator(".line.agent").filter(has_text=text)
    await line.wait_for()


async def schedule_callback(page: Any, number: str, clock: str = "18:00", personal: bool = True) -> None:
    """A callback tomorrow (the form's default day, on the customer's clock) at ``clock``."""
    await page.get_by_label("Time", exact=True).fill(clock)
    await page.get_by_label("Phone number").fill(number)
    await page.get_by_label("Me (personal)" if personal else "The team (the queue)").check()
    await page.get_by_role("button", name="Schedule", exact=True).click()
    await page.get_by_role("status").filter(has_text="Callback scheduled.").wait_for()


async def end_chat(page: Any) -> None:
    pane = page.locator(".chat-pane").first
    await pane.get_by_role("button", name="End chat").click()
    await pane.locator(".chat-ended").wait_for()


async def set_disposition(page: Any, notes: str) -> str:
    """Choose the first of the queue's codes (or type one when the queue has none), write notes, save; the code."""
    field = page.get_by_label("Disposition", exact=True)
    if await field.evaluate("e => e.tagName") == "SELECT":
        code: str = await field.locator("option").nth(1).get_attribute("value")
        await field.select_option(code)
    else:
        code = "resolved"
        await field.fill(code)
    await page.get_by_label("Notes", exact=True).fill(notes)
    await page.get_by_role("button", name="Save disposition").click()
    await page.get_by_role("status").filter(has_text="Disposition saved.").wait_for()
    return code
