"""The desk's sockets against the real server: the session cookie counts only with the page's own origin and its
CSRF token as the first message; then the agent gets their own events (an offer) and their chats' frames, as on
the API's sockets."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from infolinia.api.credentials import SESSION_COOKIE
from infolinia.demo import PASSWORD
from tests.live import LiveServer, api_login, running_server
from tests.ui_helpers import csrf_of


@pytest.fixture(scope="module")
def live(fresh_db_url, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    db = asyncio.run(fresh_db_url())
    with running_server(db, tmp_path_factory.mktemp("desk-sockets")) as server:
        yield server


async def _session(http: httpx.AsyncClient, email: str) -> tuple[str, str]:
    """Log in through the form like a browser: the session cookie and the desk's CSRF token."""
    page = await http.get("/login")
    r = await http.post("/login", data={"csrf": csrf_of(page.text), "email": email, "password": PASSWORD,
                                        "next": "/desk"})  # fmt: skip
    assert r.status_code == 303, r.text
    desk = await http.get("/desk")
    return http.cookies[SESSION_COOKIE], csrf_of(desk.text)


def _ws(live: LiveServer, path: str, cookie: str, origin: str | None = None) -> Any:
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
    if origin is not None:
        headers["Origin"] = origin
    return connect(live.base_url.replace("http", "ws") + path, additional_headers=headers)


async def _frame(ws: ClientConnection, wanted: Any) -> dict[str, Any]:
    async with asyncio.timeout(15):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if wanted(frame):
                return frame


async def _closed_with(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(15):
            while True:
                await ws.recv()
    return ws.close_code


async def test_the_desk_sockets_need_the_page_s_origin_and_token(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.base_url, timeout=20) as http:
        cookie, token = await _session(http, "agent2@demo.test")
        for path in ("/desk/ws/events", "/desk/ws/chat"):
            with pytest.raises(InvalidStatus) as refused:  # another site's page: refused before the socket opens
                async with _ws(live, path, cookie, origin="https://evil.example"):
                    pass
            assert refused.value.response.status_code == 403
            async with _ws(live, path, cookie, origin=live.base_url) as ws:  # the cookie alone is not enough
                await ws.send(json.dumps({"type": "auth", "csrf": "0" * 64}))
                assert await _closed_with(ws) == 4401
            async with _ws(live, path, cookie, origin=live.base_url) as ws:
                await ws.send(json.dumps({"type": "auth", "token": token}))
                assert await _closed_with(ws) == 4400
            async with _ws(live, path, "not-a-session", origin=live.base_url) as ws:
                await ws.send(json.dumps({"type": "auth", "csrf": token}))
                assert await _closed_with(ws) == 4401
            async with _ws(live, path, cookie, origin=live.base_url) as ws:
                await ws.send(json.dumps({"type": "auth", "csrf": token}))
                ready = await _frame(ws, lambda f: f["type"] == "ready")
                assert ready["user_id"]


async def test_an_offer_reaches_the_agent_s_event_socket(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.base_url, timeout=20) as http:
        admin = await api_login(http, "admin@demo.test")
        agent = await api_login(http, "agent2@demo.test")
        cookie, token = await _session(http, "agent2@demo.test")  # the browser's session: logged in last
        me = (await http.get("/api/v1/auth/me", headers=agent)).json()["id"]
        queues = (await http.get("/api/v1/queues", headers=admin)).json()
        technical = next(q["id"] for q in queues if q["name"] == "Technical")
        async with _ws(live, "/desk/ws/events", cookie, origin=live.base_url) as ws:
            await ws.send(json.dumps({"type": "auth", "csrf": token}))
            await _frame(ws, lambda f: f["type"] == "ready")
            r = await http.put("/api/v1/me/presence", json={"presence": "ready"}, headers=agent)
            assert r.status_code == 200, r.text
            r = await http.post("/api/v1/tasks", json={"queue_id": technical, "channel": "email",
                                                       "preferred_agent_id": me}, headers=admin)  # fmt: skip
            assert r.status_code == 201, r.text
            task = r.json()["id"]
            offer = await _frame(ws, lambda f: f["type"] == "routing.offer" and f["data"]["task"] == task)
            assert offer["data"]["agent"] == me
            await _stored(http, agent, task, "reserved")
            part = await http.get("/desk/offers")
            assert f'data-offer="{task}"' in part.text
            r = await http.post(f"/desk/tasks/{task}/decline", data={"csrf": token})
            assert r.status_code == 303
        await http.delete(f"/api/v1/tasks/{task}", headers=admin)
        await http.put("/api/v1/me/presence", json={"presence": "offline"}, headers=agent)


async def test_wrap_up_shows_its_timer_and_ends_on_the_desk(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.base_url, timeout=20) as http:
        admin = await api_login(http, "admin@demo.test")
        agent = await api_login(http, "agent4@demo.test")
        cookie, token = await _session(http, "agent4@demo.test")
        me = (await http.get("/api/v1/auth/me", headers=agent)).json()["id"]
        queues = (await http.get("/api/v1/queues", headers=admin)).json()
        technical = next(q["id"] for q in queues if q["name"] == "Technical")
        r = await http.patch(f"/api/v1/queues/{technical}", json={"wrapup_s": 600}, headers=admin)
        assert r.status_code == 200, r.text
        async with _ws(live, "/desk/ws/events", cookie, origin=live.base_url) as ws:
            await ws.send(json.dumps({"type": "auth", "csrf": token}))
            await _frame(ws, lambda f: f["type"] == "ready")
            r = await http.post("/desk/presence", data={"csrf": token, "presence": "ready"})
            assert r.status_code == 303
            # a callback's task: wrap-up follows it as it follows a call (and it waits outside business hours)
            r = await http.post("/api/v1/tasks", json={"queue_id": technical, "channel": "callback",
                                                       "preferred_agent_id": me}, headers=admin)  # fmt: skip
            assert r.status_code == 201, r.text
            task = r.json()["id"]
            await _frame(ws, lambda f: f["type"] == "routing.offer" and f["data"]["task"] == task)
            await _stored(http, agent, task, "reserved")
            r = await http.post(f"/desk/tasks/{task}/accept", data={"csrf": token})
            assert r.status_code == 303, r.text[-2000:]
            r = await http.post(f"/api/v1/tasks/{task}/complete", headers=agent)
            assert r.status_code == 200, r.text
            await _frame(ws, lambda f: f.get("data", {}).get("to") == "wrapup")
        page = (await http.get("/desk")).text
        assert 'data-state="wrapup"' in page and "End wrap-up" in page
        since = re.search(r'<time class="timer" data-since="([^"]+)"', page)
        assert since is not None  # the timer counts from the contact's completion, just now
        assert abs((datetime.now(UTC) - datetime.fromisoformat(since.group(1))).total_seconds()) < 120
        r = await http.post("/desk/presence", data={"csrf": token, "presence": "ready"})
        assert r.status_code == 303
        assert 'data-state="available"' in (await http.get("/desk/offers")).text
        await http.put("/api/v1/me/presence", json={"presence": "offline"}, headers=agent)


async def _stored(http: httpx.AsyncClient, headers: dict[str, str], task: int, state: str) -> None:
    """The task's row says ``state`` (the engine publishes an offer, then stores it)."""
    for _ in range(500):
        if (await http.get(f"/api/v1/tasks/{task}", headers=headers)).json()["state"] == state:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"task {task} not {state}")
