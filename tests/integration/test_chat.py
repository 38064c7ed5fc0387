"""The web chat against the real server (``infolinia serve --demo``): the widget's endpoints, the customer's and
the agent's WebSockets, reconnecting without losing or doubling lines, files, refusals, leaving a message or asking
for a callback when nobody can chat, cross-tenant refusals."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from infolinia.demo import DEMO_WIDGET_KEY
from tests.chat_hours import TOPIC, closed_topic
from tests.live import LiveServer, api_login, running_server

KEY = DEMO_WIDGET_KEY
SITE = "http://localhost:8000"  # an origin the demo's chat settings allow
XSS = "<img src=x onerror=alert(1)><script>alert(2)</script>"
_addresses = itertools.count(10)


def address() -> dict[str, str]:
    """A visitor address of its own (the server believes X-Forwarded-For from loopback): rate limits per test."""
    return {"X-Forwarded-For": f"198.51.100.{next(_addresses)}"}


@pytest.fixture(scope="module")
def live(fresh_db_url: Callable[[], Awaitable[str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = asyncio.run(fresh_db_url())
    env = {"INFOLINIA_TRUSTED_PROXIES": "127.0.0.1", "INFOLINIA_CHAT_STARTS_PER_IP": "5"}
    with running_server(db, tmp_path_factory.mktemp("chat"), env=env) as server:
        yield server


@pytest.fixture
async def http(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.base_url, timeout=20) as client:
        yield client


def ws_url(live: LiveServer, path: str) -> str:
    return live.base_url.replace("http://", "ws://") + path


class Socket:
    """A chat WebSocket with the frames it received kept, read until one matches."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def wait(self, pred: Callable[[dict[str, Any]], bool], within: float = 15) -> dict[str, Any]:
        for frame in self.frames:
            if pred(frame):
                self.frames.remove(frame)
                return frame
        async with asyncio.timeout(within):
            while True:
                frame = json.loads(await self.ws.recv())
                if pred(frame):
                    return frame
                self.frames.append(frame)

    def seen(self, pred: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [f for f in self.frames if pred(f)]


async def customer(live: LiveServer, chat: int, token: str, after: tuple[int, int] = (0, 0)) -> Socket:
    ws = await connect(ws_url(live, f"/chat/ws/{KEY}"), origin=SITE)  # type: ignore[arg-type]
    sock = Socket(ws)
    await sock.send({"type": "hello", "chat": chat, "token": token,
                     "after": {"customer": after[0], "agent": after[1]}})  # fmt: skip
    await sock.wait(lambda f: f["type"] == "ready")
    return sock


async def agent_socket(live: LiveServer, headers: dict[str, str]) -> Socket:
    ws = await connect(ws_url(live, "/api/v1/chat/ws"), additional_headers=headers)
    sock = Socket(ws)
    await sock.wait(lambda f: f["type"] == "ready")
    return sock


async def start(http: httpx.AsyncClient, topic: str = "question", **fields: str) -> dict[str, Any]:
    body = {"name": "Jan Testowy", "email": "jan.chat@example.com", "topic": topic} | fields
    r = await http.post(f"/chat/api/{KEY}/start", json=body, headers={"Origin": SITE} | address())
    assert r.status_code == 201, r.text
    assert r.headers["access-control-allow-origin"] == SITE
    return dict(r.json())


async def poll(check: Callable[[], Awaitable[Any]], within: float = 15) -> Any:
    async with asyncio.timeout(within):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.05)


async def accept(http: httpx.AsyncClient, headers: dict[str, str], chat: int) -> None:
    """The chat's task offered to the agent (the only one of the queue logged in), accepted."""
    got = (await http.get(f"/api/v1/chat/sessions/{chat}", headers=headers)).json()

    async def offered() -> bool:
        task = (await http.get(f"/api/v1/tasks/{got['routing_task_id']}", headers=headers)).json()
        return bool(task["state"] == "reserved")

    await poll(offered)
    r = await http.post(f"/api/v1/tasks/{got['routing_task_id']}/accept", headers=headers)
    assert r.status_code == 200, r.text


@pytest.fixture
async def agent(http: httpx.AsyncClient) -> AsyncIterator[dict[str, str]]:
    """agent1, available (the only agent of the chat queue logged in), offline again afterwards."""
    headers = await api_login(http, "agent1@demo.test")
    r = await http.put("/api/v1/me/presence", json={"presence": "ready"}, headers=headers)
    assert r.status_code == 200, r.text
    yield headers
    await http.put("/api/v1/me/presence", json={"presence": "offline"}, headers=headers)
    # what the test left open ends, so that no other test finds it
    for status in ("waiting", "active"):
        chats = (await http.get("/api/v1/chat/sessions", params={"status": status}, headers=headers)).json()["items"]
        for chat in chats:
            if status == "active":
                await http.post(f"/api/v1/chat/sessions/{chat['id']}/end", headers=headers)
            else:
                await http.delete(f"/api/v1/tasks/{chat['routing_task_id']}", headers=headers)

    async def settled() -> bool:
        chats = (await http.get("/api/v1/chat/sessions", headers=headers, params={"limit": 200})).json()["items"]
        return all(c["status"] == "ended" for c in chats)

    await poll(settled)


async def test_chat_both_ways_reconnect_and_end(
    live: LiveServer, http: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    started = await start(http)
    chat, token = started["chat"], started["token"]
    assert started["state"]["state"] == "waiting"
    cust = await customer(live, chat, token)
    await accept(http, agent, chat)
    active = await cust.wait(lambda f: f["type"] == "state" and f["state"] == "active")
    assert active["agent"] == "Agata Nowak"
    desk = await agent_socket(live, agent)
    await desk.wait(lambda f: f["type"] == "chat" and f["chat"]["id"] == chat)

    # both ways, XSS payloads as plain text; acknowledged after commit
    await cust.send({"type": "message", "client_id": "c1", "text": XSS})
    assert (await cust.wait(lambda f: f["type"] == "ack"))["seq"] == 1
    got = await desk.wait(lambda f: f["type"] == "message" and f["sender"] == "customer")
    assert got["text"] == XSS and got["seq"] == 1 and got["chat"] == chat
    await desk.send({"type": "typing", "chat": chat})
    await cust.wait(lambda f: f["type"] == "typing" and f["sender"] == "agent")
    await cust.send({"type": "typing"})
    await desk.wait(lambda f: f["type"] == "typing" and f["sender"] == "customer")
    await desk.send({"type": "message", "chat": chat, "client_id": "a1", "text": "Dzień dobry <b>!</b>"})
    await desk.wait(lambda f: f["type"] == "ack" and f["client_id"] == "a1")
    assert (await cust.wait(lambda f: f["type"] == "message" and f["sender"] == "agent"))["seq"] == 1

    # the customer's socket drops; lines sent meanwhile arrive once after resuming from the last seen
    await cust.ws.close()
    for n in (2, 3):
        await desk.send({"type": "message", "chat": chat, "client_id": f"a{n}", "text": f"line {n}"})
        await desk.wait(lambda f, n=n: f["type"] == "ack" and f["client_id"] == f"a{n}")  # type: ignore[misc]
    r = await http.post(f"/api/v1/chat/sessions/{chat}/messages", json={"text": "line 4", "client_id": "a4"},
                        headers=agent)  # fmt: skip
    assert r.status_code == 201 and r.json() == {"seq": 4, "duplicate": False}
    cust = await customer(live, chat, token, after=(1, 1))
    await cust.wait(lambda f: f["type"] == "state")
    for n in (2, 3, 4):
        line = await cust.wait(lambda f: f["type"] == "message")
        assert (line["sender"], line["seq"], line["text"]) == ("agent", n, f"line {n}")
    assert not cust.seen(lambda f: f["type"] == "message")

    # a line sent again (the ack was lost) is stored once and acknowledged with its first sequence number
    await cust.send({"type": "message", "client_id": "c1", "text": XSS})
    assert (await cust.wait(lambda f: f["type"] == "ack"))["seq"] == 1
    r = await http.post(f"/api/v1/chat/sessions/{chat}/messages", json={"text": "line 4", "client_id": "a4"},
                        headers=agent)  # fmt: skip
    assert r.json() == {"seq": 4, "duplicate": True}
    lines = (await http.get(f"/api/v1/chat/sessions/{chat}/messages", headers=agent)).json()
    assert [(x["sender"], x["seq"]) for x in lines] == [("customer", 1), ("agent", 1), ("agent", 2), ("agent", 3),
                                                        ("agent", 4)]  # fmt: skip

    # a malformed frame closes the socket with 4400; what was accepted stays
    await cust.send({"type": "message", "client_id": "c2", "text": "kept"})
    await cust.wait(lambda f: f["type"] == "ack" and f["client_id"] == "c2")
    await cust.ws.send("{not json")
    with pytest.raises(ConnectionClosed) as closed:
        await cust.wait(lambda f: False)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    await desk.wait(lambda f: f["type"] == "message" and f["client_id"] == "c2")

    # the customer ends the chat: both sides told, the contact has its times, the task completes
    cust = await customer(live, chat, token, after=(2, 4))
    await cust.send({"type": "end"})
    await cust.wait(lambda f: f["type"] == "state" and f["state"] == "ended")
    ended = await desk.wait(lambda f: f["type"] == "state" and f["state"] == "ended")
    assert ended["by"] == "customer"
    got = (await http.get(f"/api/v1/chat/sessions/{chat}", headers=agent)).json()
    assert got["status"] == "ended" and got["ended_by"] == "customer"
    contact = (await http.get(f"/api/v1/interactions/{got['interaction_id']}", headers=agent)).json()
    assert contact["channel"] == "chat" and contact["answered_at"] and contact["ended_at"]
    assert contact["created_at"] <= contact["answered_at"] <= contact["ended_at"]
    task = (await http.get(f"/api/v1/tasks/{got['routing_task_id']}", headers=agent)).json()
    assert task["state"] == "done" and task["outcome"] == "completed"
    await cust.ws.close()
    await desk.ws.close()


async def test_refusals(live: LiveServer, http: httpx.AsyncClient, agent: dict[str, str]) -> None:
    r = await http.get("/chat/api/not-a-real-widget-key-at-all/config")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_widget"
    r = await http.get(f"/chat/api/{KEY}/config", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in r.headers
    r = await http.post(f"/chat/api/{KEY}/start", json={"topic": "question", "email": "a@example.com"},
                        headers={"Origin": "https://evil.example"})  # fmt: skip
    assert r.status_code == 403
    async with connect(ws_url(live, f"/chat/ws/{KEY}"), origin="https://evil.example") as ws:  # type: ignore[arg-type]
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    started = await start(http)
    async with connect(ws_url(live, f"/chat/ws/{KEY}"), origin=SITE) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "hello", "chat": started["chat"], "token": "wrong"}))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    for bad in ({"topic": "nope", "email": "a@example.com"}, {"topic": "question"},
                {"topic": "question", "email": "not an address"}):  # fmt: skip
        r = await http.post(f"/chat/api/{KEY}/start", json=bad, headers={"Origin": SITE} | address())
        assert r.status_code == 422, r.text
    r = await http.post(f"/chat/api/{KEY}/start", content=b"x" * 20_000, headers=address())
    assert r.status_code == 413
    # the starts per address are limited
    one = address()
    codes = [(await http.post(f"/chat/api/{KEY}/start", json={"topic": "question", "email": "r@example.com"},
                              headers=one)).status_code for _ in range(6)]  # fmt: skip
    assert codes == [201] * 5 + [429]


async def test_cross_tenant(live: LiveServer, http: httpx.AsyncClient, agent: dict[str, str]) -> None:
    started = await start(http)
    chat = started["chat"]
    acme = await api_login(http, "admin@acme.test")
    for path in (f"/api/v1/chat/sessions/{chat}", f"/api/v1/chat/sessions/{chat}/messages"):
        assert (await http.get(path, headers=acme)).status_code == 404
    assert chat not in [c["id"] for c in (await http.get("/api/v1/chat/sessions", headers=acme)).json()["items"]]
    r = await http.post(f"/api/v1/chat/sessions/{chat}/messages", json={"text": "hi"}, headers=acme)
    assert r.status_code == 404
    desk = await agent_socket(live, await api_login(http, "agent1@acme.test"))
    await desk.send({"type": "message", "chat": chat, "client_id": "x1", "text": "from another tenant"})
    refused = await desk.wait(lambda f: f["type"] == "error")
    assert refused["code"] == "not_your_chat"
    await desk.ws.close()
    # another demo agent may not write in a chat that is not theirs either
    other = await api_login(http, "agent2@demo.test")
    r = await http.post(f"/api/v1/chat/sessions/{chat}/messages", json={"text": "hi"}, headers=other)
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_your_chat"


async def test_files(live: LiveServer, http: httpx.AsyncClient, agent: dict[str, str]) -> None:
    started = await start(http)
    chat, token = started["chat"], started["token"]
    await accept(http, agent, chat)
    base = f"/chat/api/{KEY}/chats/{chat}/files"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    own = {"X-Chat-Token": token, "Origin": SITE}
    r = await http.post(base, content=png, headers=own | {"X-File-Name": "../../etc/<b>photo.exe"})
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["type"] == "image/png" and sent["name"] == "b_photo.exe.png"
    r = await http.post(base, content=b"MZ\x90\x00\x03" + bytes(range(256)), headers=own)
    assert r.status_code == 415 and r.json()["error"]["code"] == "file_type"
    r = await http.post(base, content=b"%PDF-" + b"a" * 6_000_000, headers=own)
    assert r.status_code == 413 and r.json()["error"]["code"] == "file_too_large"
    r = await http.post(base, content=png, headers={"X-Chat-Token": "wrong"})
    assert r.status_code == 404
    # served to the chat's customer (with its token) and the tenant's agents, as a download of its checked type
    r = await http.get(f"{base}/{sent['id']}", headers=own)
    assert r.status_code == 200 and r.content == png and r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert (await http.get(f"{base}/{sent['id']}")).status_code == 404
    r = await http.get(f"/api/v1/chat-files/{sent['id']}", headers=agent)
    assert r.status_code == 200 and r.content == png
    acme = await api_login(http, "admin@acme.test")
    assert (await http.get(f"/api/v1/chat-files/{sent['id']}", headers=acme)).status_code == 404
    lines = (await http.get(f"/api/v1/chat/sessions/{chat}/messages", headers=agent)).json()
    assert lines[-1]["file"]["id"] == sent["id"]
    r = await http.post(f"/api/v1/chat/sessions/{chat}/files", content=b"plain text\n",
                        headers=agent | {"X-File-Name": "notes.txt"})  # fmt: skip
    assert r.status_code == 201 and r.json()["type"] == "text/plain"
    r = await http.post(f"/api/v1/chat/sessions/{chat}/end", headers=agent)
    assert r.status_code == 200 and r.json()["ended_by"] == "agent"
    # wrap-up as for any contact: the agent's disposition code on the chat's contact, checked against its queue's
    admin = await api_login(http, "admin@demo.test")
    ended = r.json()
    code = {"code": "chat_answered", "label": "Answered in the chat", "outcome": "resolved"}
    r = await http.post(f"/api/v1/queues/{ended['queue_id']}/wrapup/codes", json=code, headers=admin)
    assert r.status_code in (201, 409), r.text
    r = await http.post(f"/api/v1/interactions/{ended['interaction_id']}/disposition", json={"code": "chat_answered"},
                        headers=agent)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["disposition_code"] == "chat_answered" and r.json()["ended_at"] is not None


async def test_nobody_free_leave_message_or_callback(live: LiveServer, http: httpx.AsyncClient) -> None:
    """With nobody of the queue logged in, the widget offers a message (a case) or a callback instead."""
    config = (await http.get(f"/chat/api/{KEY}/config", headers={"Origin": SITE})).json()
    assert {t["id"]: t["availability"] for t in config["topics"]} == {"question": "no_agents", "billing": "no_agents"}
    r = await http.post(f"/chat/api/{KEY}/start", json={"topic": "billing", "email": "z@example.com"},
                        headers={"Origin": SITE} | address())  # fmt: skip
    assert r.status_code == 409 and r.json()["error"]["details"]["reason"] == "no_agents"
    body = {"topic": "billing", "name": "Ola", "email": "ola.chat@example.com", "message": XSS}
    r = await http.post(f"/chat/api/{KEY}/message", json=body, headers={"Origin": SITE} | address())
    assert r.status_code == 201, r.text
    number = r.json()["case_number"]
    admin = await api_login(http, "admin@demo.test")
    cases = (await http.get("/api/v1/cases", params={"limit": 200}, headers=admin)).json()["items"]
    case = next(c for c in cases if c["number"] == number)
    assert case["category"] == "billing"
    case_queue = (await http.get(f"/api/v1/tasks/{case['routing_task_id']}", headers=admin)).json()["queue_id"]
    body = {"topic": "question", "name": "Ola", "phone": "+48 601 234 567", "reason": "please call"}
    r = await http.post(f"/chat/api/{KEY}/callback", json=body, headers={"Origin": SITE} | address())
    assert r.status_code == 201, r.text
    callback = (await http.get(f"/api/v1/callbacks/{r.json()['callback']}", headers=admin)).json()
    assert callback["number"] == "+48601234567" and callback["source"] == "web"
    # withdrawn again: the case and the call would wait in the chat queue for the next agent who logs in
    r = await http.post(f"/api/v1/callbacks/{callback['id']}/cancel", json={"reason": "test over"}, headers=admin)
    assert r.status_code == 200, r.text
    waiting = (await http.get("/api/v1/tasks", params={"state": "waiting", "limit": 500}, headers=admin)).json()
    for task in waiting["items"]:
        if task["channel"] == "case" and task["queue_id"] == case_queue:
            assert (await http.delete(f"/api/v1/tasks/{task['id']}", headers=admin)).status_code == 200


async def test_settings(live: LiveServer, http: httpx.AsyncClient) -> None:
    admin = await api_login(http, "admin@acme.test")
    r = await http.patch("/api/v1/chat/settings", json={"enabled": True, "allowed_origins": ["https://shop.acme.test"]},
                         headers=admin)  # fmt: skip
    assert r.status_code == 200, r.text
    key = r.json()["widget_key"]
    assert key and key != KEY
    r = await http.patch("/api/v1/chat/settings", json={"topics": {"question": 999999}}, headers=admin)
    assert r.status_code == 422
    r = await http.patch("/api/v1/chat/settings", json={"enabled": None, "topics": None}, headers=admin)
    assert r.status_code == 200 and r.json()["enabled"] is True and r.json()["widget_key"] == key
    r = await http.patch("/api/v1/chat/settings", json={"allowed_origins": ["not an origin"]}, headers=admin)
    assert r.status_code == 422
    r = await http.get(f"/chat/api/{key}/config", headers={"Origin": "https://shop.acme.test"})
    assert r.status_code == 200 and r.json()["topics"] == []
    agent = await api_login(http, "agent1@acme.test")
    assert (await http.get("/api/v1/chat/settings", headers=agent)).status_code == 403


async def test_idle_chat_ends(live: LiveServer, http: httpx.AsyncClient, agent: dict[str, str]) -> None:
    admin = await api_login(http, "admin@demo.test")
    r = await http.patch("/api/v1/chat/settings", json={"idle_timeout_s": 5}, headers=admin)
    assert r.status_code == 200, r.text
    try:
        started = await start(http)
        cust = await customer(live, started["chat"], started["token"])
        await accept(http, agent, started["chat"])
        await cust.wait(lambda f: f["type"] == "state" and f["state"] == "active")
        ended = await cust.wait(lambda f: f["type"] == "state" and f["state"] == "ended", within=30)
        assert ended["by"] == "idle"
        got = (await http.get(f"/api/v1/chat/sessions/{started['chat']}", headers=agent)).json()
        assert got["ended_by"] == "idle" and got["ended_at"]
        await cust.ws.close()
    finally:
        await http.patch("/api/v1/chat/settings", json={"idle_timeout_s": 900}, headers=admin)


async def test_transcript_by_email(live: LiveServer, http: httpx.AsyncClient, agent: dict[str, str]) -> None:
    started = await start(http)
    chat, token = started["chat"], started["token"]
    await accept(http, agent, chat)
    r = await http.post(f"/api/v1/chat/sessions/{chat}/messages", json={"text": "Your order ships today."},
                        headers=agent)  # fmt: skip
    assert r.status_code == 201
    url = f"/chat/api/{KEY}/chats/{chat}/transcript"
    r = await http.post(url, json={}, headers={"X-Chat-Token": token})
    assert r.status_code == 409 and r.json()["error"]["code"] == "email_not_configured"  # no relay yet
    admin = await api_login(http, "admin@demo.test")
    relay = {"host": "127.0.0.1", "port": 9, "security": "none"}  # refuses: the message waits in the outbox
    r = await http.patch("/api/v1/email/settings", json={"relay": relay}, headers=admin)
    assert r.status_code == 200, r.text
    try:
        assert (await http.post(url, json={}, headers={"X-Chat-Token": "wrong"})).status_code == 404
        r = await http.post(url, json={"email": "not an address"}, headers={"X-Chat-Token": token})
        assert r.status_code == 422
        r = await http.post(url, json={}, headers={"X-Chat-Token": token})
        assert r.status_code == 202 and r.json()["to"] == "jan.chat@example.com"
        emails = (await http.get("/api/v1/emails", params={"direction": "out"}, headers=admin)).json()["items"]
        sent = [e for e in emails if e["to_address"] == "jan.chat@example.com"]
        assert sent and "Your order ships today." in sent[-1]["body"]
    finally:
        await http.patch("/api/v1/email/settings", json={"relay": None}, headers=admin)


async def test_flooding_is_refused_and_nothing_acknowledged_is_lost(
    live: LiveServer, http: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    """Beyond the tenant's lines per second a line is refused with ``rate_limited`` and when to send it again; the
    socket stays, every acknowledged line is stored, and a refused line sent again later is taken."""
    admin = await api_login(http, "admin@demo.test")
    r = await http.patch("/api/v1/chat/settings", json={"lines_per_s": 1, "lines_burst": 3}, headers=admin)
    assert r.status_code == 200, r.text
    try:
        started = await start(http)
        chat, token = started["chat"], started["token"]
        cust = await customer(live, chat, token)
        await accept(http, agent, chat)
        for n in range(1, 31):
            await cust.send({"type": "message", "client_id": f"f{n}", "text": f"flood {n}"})
        answers: dict[str, dict[str, Any]] = {}
        while len(answers) < 30:
            got = await cust.wait(lambda f: f["type"] in ("ack", "error"))
            answers[got["client_id"]] = got
        acked = {cid: f["seq"] for cid, f in answers.items() if f["type"] == "ack"}
        refused = [f for f in answers.values() if f["type"] == "error"]
        assert len(acked) >= 3 and refused, answers
        assert all(f["code"] == "rate_limited" and 0 < f["retry_after_s"] <= 1 for f in refused)
        assert sorted(acked.values()) == list(range(1, len(acked) + 1))  # refused lines took no number
        await cust.send({"type": "ping"})
        await cust.wait(lambda f: f["type"] == "pong")  # the socket stayed
        lines = (await http.get(f"/api/v1/chat/sessions/{chat}/messages", headers=agent)).json()
        assert {x["client_id"]: x["seq"] for x in lines if x["sender"] == "customer"} == acked
        # sent again after the wait it was told, a refused line is taken
        again = refused[0]
        await asyncio.sleep(again["retry_after_s"] + 1.5)
        await cust.send({"type": "message", "client_id": again["client_id"], "text": "sent again"})
        ack = await cust.wait(lambda f: f["type"] == "ack" and f["client_id"] == again["client_id"])
        assert ack["seq"] == len(acked) + 1
        await cust.ws.close()
    finally:
        await http.patch("/api/v1/chat/settings", json={"lines_per_s": 2, "lines_burst": 20}, headers=admin)


async def test_closed_hours_offer_message_or_callback(
    live: LiveServer, http: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    """A topic whose queue keeps the tenant's business hours, on a holiday: the widget's configuration says
    ``closed`` (even with an agent ready), a chat is refused with the reason, a message or a callback is taken."""
    admin = await api_login(http, "admin@demo.test")
    async with closed_topic(http, admin) as queue:
        config = (await http.get(f"/chat/api/{KEY}/config", headers={"Origin": SITE})).json()
        availability = {t["id"]: t["availability"] for t in config["topics"]}
        assert availability[TOPIC] == "closed" and availability["question"] == "open"
        r = await http.post(f"/chat/api/{KEY}/start", json={"topic": TOPIC, "email": "late@example.com"},
                            headers={"Origin": SITE} | address())  # fmt: skip
        assert r.status_code == 409, r.text
        assert r.json()["error"]["code"] == "chat_unavailable" and r.json()["error"]["details"]["reason"] == "closed"
        body = {"topic": TOPIC, "name": "Late", "email": "late@example.com", "message": "after hours " + XSS}
        r = await http.post(f"/chat/api/{KEY}/message", json=body, headers={"Origin": SITE} | address())
        assert r.status_code == 201, r.text
        cases = (await http.get("/api/v1/cases", params={"limit": 200}, headers=admin)).json()["items"]
        case = next(c for c in cases if c["number"] == r.json()["case_number"])
        task = (await http.get(f"/api/v1/tasks/{case['routing_task_id']}", headers=admin)).json()
        assert task["queue_id"] == queue
        body = {"topic": TOPIC, "name": "Late", "phone": "+48 601 234 568", "reason": "call me tomorrow"}
        r = await http.post(f"/chat/api/{KEY}/callback", json=body, headers={"Origin": SITE} | address())
        assert r.status_code == 201, r.text
        callback = (await http.get(f"/api/v1/callbacks/{r.json()['callback']}", headers=admin)).json()
        assert callback["queue_id"] == queue and callback["source"] == "web"
        await http.post(f"/api/v1/callbacks/{callback['id']}/cancel", json={"reason": "test over"}, headers=admin)
        if task["state"] in ("waiting", "scheduled", "reserved"):
            await http.delete(f"/api/v1/tasks/{task['id']}", headers=admin)
    config = (await http.get(f"/chat/api/{KEY}/config", headers={"Origin": SITE})).json()
    assert TOPIC not in {t["id"] for t in config["topics"]}


async def test_transcript_on_the_customers_timeline(
    live: LiveServer, http: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    """The chat's transcript is an entry of the customer's timeline of its own, beside the chat's contact; its
    lines are JSON text (markup is data, never HTML), and another tenant does not see the customer."""
    started = await start(http, email="timeline.chat@example.com")
    chat, token = started["chat"], started["token"]
    cust = await customer(live, chat, token)
    await accept(http, agent, chat)
    await cust.send({"type": "message", "client_id": "t1", "text": XSS})
    await cust.wait(lambda f: f["type"] == "ack")
    r = await http.post(f"/api/v1/chat/sessions/{chat}/messages", json={"text": "Hello <b>there</b>"}, headers=agent)
    assert r.status_code == 201
    assert (await http.post(f"/api/v1/chat/sessions/{chat}/end", headers=agent)).status_code == 200
    got = (await http.get(f"/api/v1/chat/sessions/{chat}", headers=agent)).json()
    r = await http.get(f"/api/v1/customers/{got['customer_id']}/timeline", headers=agent)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    items = r.json()["items"]
    entry = next(i for i in items if i["kind"] == "chat_transcript" and i["chat_id"] == chat)
    assert entry["interaction_id"] == got["interaction_id"] and entry["status"] == "ended"
    assert entry["ended_by"] == "agent" and entry["lines_total"] == 2
    assert [(x["sender"], x["seq"], x["text"]) for x in entry["lines"]] == [
        ("customer", 1, XSS), ("agent", 1, "Hello <b>there</b>")
    ]  # fmt: skip
    assert any(i["kind"] == "interaction" and i["id"] == got["interaction_id"] for i in items)
    # paging through the timeline one item at a time meets the entry once
    seen, before = [], None
    for _ in range(50):
        params: dict[str, Any] = {"limit": 1} | ({"before": before} if before else {})
        page = (await http.get(f"/api/v1/customers/{got['customer_id']}/timeline", params=params,
                               headers=agent)).json()  # fmt: skip
        seen += [(i["kind"], i["id"]) for i in page["items"]]
        if not (before := page["next_before"]):
            break
    assert seen.count(("chat_transcript", chat)) == 1
    acme = await api_login(http, "admin@acme.test")
    assert (await http.get(f"/api/v1/customers/{got['customer_id']}/timeline", headers=acme)).status_code == 404
    await cust.ws.close()


async def test_agent_lines_keep_their_order(live: LiveServer, http: httpx.AsyncClient, agent: dict[str, str]) -> None:
    """The agent's socket reads its next frames while a line commits: lines sent back to back in two chats are
    numbered and delivered in the order sent, and lines still committing when the socket closes are stored."""
    chats = []
    for n in range(2):
        started = await start(http, email=f"order{n}.chat@example.com")
        await accept(http, agent, started["chat"])
        chats.append((started["chat"], await customer(live, started["chat"], started["token"])))
    desk = await agent_socket(live, agent)
    for i in range(1, 26):
        for chat, _ in chats:
            await desk.send({"type": "message", "chat": chat, "client_id": f"o{i}", "text": f"line {i}"})
    for chat, cust in chats:
        acks = [await desk.wait(lambda f, c=chat: f["type"] == "ack" and f["chat"] == c) for _ in range(25)]  # type: ignore[misc]
        assert [(a["client_id"], a["seq"]) for a in acks] == [(f"o{i}", i) for i in range(1, 26)]
        got = [await cust.wait(lambda f: f["type"] == "message") for _ in range(25)]
        assert [(f["seq"], f["text"]) for f in got] == [(i, f"line {i}") for i in range(1, 26)]
    for chat, _ in chats:  # sent and the socket closed at once: stored all the same
        await desk.send({"type": "message", "chat": chat, "client_id": "last", "text": "bye"})
    await desk.ws.close()
    for _, cust in chats:
        last = await cust.wait(lambda f: f["type"] == "message" and f["client_id"] == "last")
        assert last["seq"] == 26
        await cust.ws.close()
