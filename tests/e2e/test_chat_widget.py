"""The chat widget end to end in headless Chromium: a page on another origin (a small static server of the test's
own) embeds the widget from the real server; the customer fills the pre-chat form and writes, an agent (over the
agent WebSocket and the tasks API) accepts and answers, each sees the other's lines; script and markup in either
direction show as text; nothing is requested from beyond loopback."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from infolinia.demo import DEMO_WIDGET_KEY
from tests.browser import browser, offsite_requests
from tests.chat_hours import TOPIC, closed_topic
from tests.live import LiveServer, api_login, free_port, running_server

XSS_IN = "<img src=x onerror=window.__pwned=1>"
XSS_OUT = "<script>window.__pwned=2</script><b>bold?</b>"


@pytest.fixture(scope="module")
def live(fresh_db_url: Callable[[], Awaitable[str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = asyncio.run(fresh_db_url())
    with running_server(db, tmp_path_factory.mktemp("chat-e2e")) as server:
        yield server


@pytest.fixture(scope="module")
def site(live: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another origin: a static page embedding the widget from the server, as a company's site would."""
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text(f"""<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>A shop</h1>
<script src="{live.base_url}/chat/widget.js" data-key="{DEMO_WIDGET_KEY}" async></script></body></html>""")
    port = free_port()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    thread.join(10)


async def until(check: Callable[[], Awaitable[Any]], within: float = 20) -> Any:
    async with asyncio.timeout(within):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.05)


async def test_customer_and_agent_chat_in_the_browser(live: LiveServer, site: str) -> None:
    async with httpx.AsyncClient(base_url=live.base_url, timeout=20) as http:
        admin = await api_login(http, "admin@demo.test")
        r = await http.patch("/api/v1/chat/settings", json={"allowed_origins": [site]}, headers=admin)
        assert r.status_code == 200, r.text
        agent = await api_login(http, "agent1@demo.test")
        r = await http.put("/api/v1/me/presence", json={"presence": "ready"}, headers=agent)
        assert r.status_code == 200, r.text
        desk = await connect(live.base_url.replace("http", "ws") + "/api/v1/chat/ws", additional_headers=agent)
        frames: list[dict[str, Any]] = []

        async def frame(pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
            async with asyncio.timeout(20):
                while True:
                    for f in frames:
                        if pred(f):
                            frames.remove(f)
                            return f
                    frames.append(json.loads(await desk.recv()))

        await frame(lambda f: f["type"] == "ready")
        async with browser() as chromium:
            page = await chromium.new_page()
            offsite = offsite_requests(page)
            await page.goto(site + "/index.html")
            await page.get_by_role("button", name="Chat with us").click()
            await page.locator("#ic-name").fill("Ola <i>Klientka</i>")
            await page.locator("#ic-email").fill("ola.widget@example.com")
            await page.locator("#ic-topic").select_option("question")
            await page.get_by_role("button", name="Start chat").click()
            status = page.locator(".status")
            await status.filter(has_text="Waiting for an agent").wait_for()

            chats = (await http.get("/api/v1/chat/sessions", params={"status": "waiting"}, headers=agent)).json()
            chat = chats["items"][-1]
            assert chat["name"] == "Ola <i>Klientka</i>"

            async def offered() -> bool:
                task = (await http.get(f"/api/v1/tasks/{chat['routing_task_id']}", headers=agent)).json()
                return bool(task["state"] == "reserved")

            await until(offered)
            r = await http.post(f"/api/v1/tasks/{chat['routing_task_id']}/accept", headers=agent)
            assert r.status_code == 200, r.text
            await status.filter(has_text="You are chatting with Agata Nowak").wait_for()
            await frame(lambda f: f["type"] == "chat" and f["chat"]["id"] == chat["id"])

            # the customer writes: markup arrives as text at the agent's socket, and shows as text in the widget
            box = page.get_by_role("textbox", name="Your message")
            await box.fill(XSS_IN)
            await box.press("Enter")
            got = await frame(lambda f: f["type"] == "message" and f["sender"] == "customer")
            assert got["text"] == XSS_IN
            mine = page.locator(".line.customer").last
            await mine.wait_for()
            assert await mine.text_content() == XSS_IN
            await page.locator(".line.customer.pending").wait_for(state="detached")

            # the agent types and answers: the customer sees the indicator, then the line, as text
            await desk.send(json.dumps({"type": "typing", "chat": chat["id"]}))
            await page.locator(".typing").filter(has_text="writing").wait_for()
            await desk.send(json.dumps({"type": "message", "chat": chat["id"], "client_id": "w1", "text": XSS_OUT}))
            answer = page.locator(".line.agent").first
            await answer.wait_for()
            assert await answer.text_content() == XSS_OUT
            # nothing of the payloads ran or became elements
            assert await page.evaluate("window.__pwned") is None
            host = page.locator("[data-infolinia-chat]")
            assert (
                await host.evaluate("h => h.shadowRoot.querySelectorAll('.lines img, .lines script, .lines b').length")
                == 0
            )

            # the customer ends the chat; the agent is told
            await page.get_by_role("button", name="End chat").click()
            await status.filter(has_text="The chat has ended").wait_for()
            ended = await frame(lambda f: f["type"] == "state" and f["state"] == "ended")
            assert ended["by"] == "customer"
            assert offsite == []
        await desk.close()
        await http.put("/api/v1/me/presence", json={"presence": "offline"}, headers=agent)


async def test_closed_topic_offers_message_and_callback_only(live: LiveServer, site: str) -> None:
    """Outside business hours the widget starts no chat: it says the tenant is closed and offers to leave a message
    (a case, whose number it shows) or to ask for a callback."""
    async with httpx.AsyncClient(base_url=live.base_url, timeout=20) as http:
        admin = await api_login(http, "admin@demo.test")
        r = await http.patch("/api/v1/chat/settings", json={"allowed_origins": [site]}, headers=admin)
        assert r.status_code == 200, r.text
        async with closed_topic(http, admin), browser() as chromium:
            before = (await http.get("/api/v1/chat/sessions", params={"limit": 200}, headers=admin)).json()["items"]
            page = await chromium.new_page()
            offsite = offsite_requests(page)
            await page.goto(site + "/index.html")
            await page.get_by_role("button", name="Chat with us").click()
            await page.locator("#ic-name").fill("Late <b>Visitor</b>")
            await page.locator("#ic-email").fill("late.widget@example.com")
            await page.locator("#ic-topic").select_option(TOPIC)
            await page.get_by_role("button", name="Start chat").click()
            await page.get_by_text("We are closed now").wait_for()
            assert await page.get_by_role("button", name="Start chat").count() == 0
            assert await page.get_by_role("button", name="Call me back").is_visible()
            await page.get_by_role("textbox", name="Your message").fill("Please write back " + XSS_IN)
            await page.get_by_role("button", name="Send message").click()
            thanks = page.get_by_text("Your case number is")
            await thanks.wait_for()
            number = (await thanks.text_content() or "").rsplit(" ", 1)[-1].rstrip(".")
            cases = (await http.get("/api/v1/cases", params={"limit": 200}, headers=admin)).json()["items"]
            case = next(c for c in cases if str(c["number"]) == number)
            await http.delete(f"/api/v1/tasks/{case['routing_task_id']}", headers=admin)  # waits for nobody else
            after = (await http.get("/api/v1/chat/sessions", params={"limit": 200}, headers=admin)).json()["items"]
            assert len(after) == len(before)  # no chat was started
            assert await page.evaluate("window.__pwned") is None
            assert offsite == []
