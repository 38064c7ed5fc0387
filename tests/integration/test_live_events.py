"""Live events over WebSocket against the real server: a client that subscribes, fetches the routing snapshot and
applies every later event ends equal to a fresh snapshot; the gate (credentials, origin, tenant, role) and the close
codes; a slow client; the server stopping with sockets open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from infolinia import demo
from infolinia.api import wsgate
from infolinia.auth.actions import create_user
from infolinia.routing.replica import Replica
from infolinia.schemas import UserIn
from infolinia.store import db as store
from infolinia.store.models import Queue, Role
from infolinia.store.uow import SYSTEM, write
from tests.live import LiveServer, running_server
from tests.wsclient import Feed, ws_url

pytestmark = pytest.mark.asyncio(loop_scope="session")
ROOT = "root@platform.test"


async def _prepared_db(fresh_db_url: Callable[[], Awaitable[str]]) -> str:
    """The demo, with queues that make the engine's timers fire within the test: offers to Technical time out after
    1 s, a call in Billing is followed by 0.5 s of wrap-up, a case waits at most 1.5 s in Sales."""
    url = await fresh_db_url()
    await asyncio.to_thread(store.upgrade, url)
    database = store.Database(url)
    try:
        assert await demo.seed(database)
        async with write(database, None, SYSTEM) as tx:
            root = UserIn(email=ROOT, display_name="Root", role=Role.PLATFORM_ADMIN, password=demo.PASSWORD)
            await create_user(tx, None, root, min_password_length=0)
        async with database.session() as s:
            await s.execute(update(Queue).where(Queue.name == "Technical").values(offer_timeout_s=1.0))
            await s.execute(update(Queue).where(Queue.name == "Billing").values(wrapup_s=0.5))
            await s.execute(update(Queue).where(Queue.name == "Sales").values(max_wait_s=1.5))
            await s.commit()
    finally:
        await database.dispose()
    return url


@pytest.fixture(scope="module")
def live_db(fresh_db_url: Callable[[], Awaitable[str]]) -> str:
    return asyncio.run(_prepared_db(fresh_db_url))


@pytest.fixture(scope="module")
def live(live_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"INFOLINIA_EVENTS_KEEPALIVE_S": "1", "INFOLINIA_ALLOWED_ORIGINS": "https://desk.example.test"}
    with running_server(live_db, tmp_path_factory.mktemp("live"), env=env) as server:
        yield server


class Api:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    async def token(self, email: str) -> str:
        if email not in self.tokens:
            r = await self.client.post("/auth/login", json={"email": email, "password": demo.PASSWORD})
            assert r.status_code == 200, r.text
            self.client.cookies.clear()
            self.tokens[email] = r.json()["token"]
        return self.tokens[email]

    async def call(self, who: str, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        headers = {"Authorization": f"Bearer {await self.token(who)}"}
        r = await self.client.request(method, path, json=body, headers=headers)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None


@pytest.fixture
async def api(live: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=f"{live.base_url}/api/v1", timeout=30) as client:
        yield Api(client)


SUP, AGENT1, AGENT2, AGENT3 = "supervisor@demo.test", "agent1@demo.test", "agent2@demo.test", "agent3@demo.test"


async def _user_ids(api: Api) -> dict[str, int]:
    users = (await api.call(SUP, "GET", "/users?limit=100"))["items"]
    return {u["email"]: u["id"] for u in users}


async def _poll(check: Callable[[], Awaitable[bool]], what: str, within_s: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Copy:
    """A supervisor's client: a WebSocket subscription, then the snapshot, then every event applied."""

    def __init__(self, api: Api, feed: Feed, replica: Replica) -> None:
        self.api, self.feed, self.replica = api, feed, replica
        self.applied = 0
        self._read = 0
        self.replica_seq0 = replica.seq  # the snapshot's

    @classmethod
    async def start(cls, api: Api, base_url: str) -> Copy:
        feed = await Feed.open(base_url, token=await api.token(SUP))
        await feed.ready()  # subscribed: from now on no event is missed
        return cls(api, feed, Replica(await api.call(SUP, "GET", "/routing/snapshot")))

    def catch_up(self) -> None:
        events = self.feed.events
        for event in events[self._read :]:
            self.applied += self.replica.apply(event)
        self._read = len(events)

    async def task(self, task_id: int) -> dict[str, Any] | None:
        self.catch_up()
        view = self.replica.tasks.get(task_id)
        return None if view is None else view.model_dump(mode="json")

    async def matches_a_fresh_snapshot(self) -> None:
        """Poll until the copy equals the server's snapshot (events arrive a moment after the change)."""
        fresh: dict[str, Any] = {}

        async def equal() -> bool:
            nonlocal fresh
            fresh = await self.api.call(SUP, "GET", "/routing/snapshot")
            self.catch_up()
            return self.replica.snapshot().model_dump(mode="json", exclude={"seq"}) == {
                k: v for k, v in fresh.items() if k != "seq"
            }

        try:
            await _poll(equal, "the copy to equal a fresh snapshot")
        except AssertionError:
            assert self.replica.snapshot().model_dump(mode="json", exclude={"seq"}) == fresh
            raise


async def _holding(api: Api, agent: int) -> list[tuple[int, str]]:
    """The tasks offered to or handled by ``agent``, from the rows (written before the answer to a change)."""
    held = []
    for state in ("reserved", "assigned"):
        rows = (await api.call(SUP, "GET", f"/tasks?state={state}"))["items"]
        held += [(r["id"], state) for r in rows if r["agent_id"] == agent]
    return held


async def _offered_to(api: Api, agent: int) -> int:
    found: list[int] = []

    async def offered() -> bool:
        found[:] = [t for t, state in await _holding(api, agent) if state == "reserved"]
        return bool(found)

    await _poll(offered, f"an offer to agent {agent}")
    return found[0]


async def _work_off(api: Api, who: str, agent: int) -> None:
    """Accept and complete whatever the agent is offered or handles, until it holds nothing."""
    for _ in range(30):
        held = await _holding(api, agent)
        if not held:
            return
        for task_id, state in held:
            await api.call(who, "POST", f"/tasks/{task_id}/{'accept' if state == 'reserved' else 'complete'}")
    raise AssertionError(f"agent {agent} still holds {await _holding(api, agent)}")


async def test_a_copy_made_of_the_snapshot_and_the_events_equals_a_fresh_snapshot(api: Api, live: LiveServer) -> None:
    ids = await _user_ids(api)
    a1, a2, a3 = ids[AGENT1], ids[AGENT2], ids[AGENT3]
    queues = {q["name"]: q["id"] for q in await api.call(SUP, "GET", "/queues")}
    billing, technical, sales = queues["Billing"], queues["Technical"], queues["Sales"]
    copy = await Copy.start(api, live.base_url)
    sse_seqs: list[int] = []
    sse_open = asyncio.Event()
    sse = asyncio.create_task(_read_sse(live.base_url, await api.token(SUP), sse_seqs, sse_open))
    await asyncio.wait_for(sse_open.wait(), 10)
    try:
        soon = datetime.now(UTC) + timedelta(seconds=1)

        async def task(who: str, **body: Any) -> int:
            return int((await api.call(who, "POST", "/tasks", body, status=201))["id"])

        # nobody is ready: tasks line up; one is personal for a while, one is scheduled, one waits too long
        await task(SUP, queue_id=billing, channel="email", language="pl")
        await task(SUP, queue_id=billing, channel="email", priority=5)
        await task(SUP, queue_id=billing, channel="chat", preferred_agent_id=a2, preferred_until=soon.isoformat())
        exits = await task(SUP, queue_id=sales, channel="case")
        scheduled = await task(SUP, queue_id=billing, channel="email", not_before=soon.isoformat())
        await _poll(lambda: _is(copy, exits, None), "the case to leave Sales after its maximum wait")
        await _poll(lambda: _is(copy, scheduled, "waiting"), "the scheduled task to line up")
        await copy.matches_a_fresh_snapshot()

        # agent1 takes one task and refuses the next; agent2 lets an offer time out
        await api.call(AGENT1, "PUT", "/me/presence", {"presence": "ready"})
        first = await _offered_to(api, a1)
        await api.call(AGENT1, "POST", f"/tasks/{first}/accept")
        await api.call(AGENT1, "POST", f"/tasks/{await _offered_to(api, a1)}/decline")  # agent1: break
        await api.call(AGENT1, "POST", f"/tasks/{first}/complete")
        await api.call(AGENT2, "PUT", "/me/presence", {"presence": "ready"})
        await _work_off(api, AGENT2, a2)
        expert = await task(SUP, queue_id=technical, channel="voice", skills={"technical": 9})
        await _poll(lambda: _is(copy, expert, "waiting", after_offer=True), "the offer to agent2 to time out")
        await copy.matches_a_fresh_snapshot()

        # the supervisor brings agent2 back and withdraws what it is offered; agent3 comes and goes
        await api.call(SUP, "POST", "/tasks", {"queue_id": billing, "channel": "email"}, status=201)
        await api.call(SUP, "PUT", f"/agents/{a2}/presence", {"presence": "ready"})
        await api.call(SUP, "DELETE", f"/tasks/{await _offered_to(api, a2)}")
        await api.call(AGENT3, "PUT", "/me/presence", {"presence": "ready"})
        await api.call(SUP, "DELETE", f"/tasks/{expert}")
        await copy.matches_a_fresh_snapshot()

        # a call in Billing ends in wrap-up, which the engine ends after 0.5 s
        for who, agent in ((AGENT2, a2), (AGENT3, a3)):
            await api.call(who, "PUT", "/me/presence", {"presence": "break", "reason": "lunch"})
            await _work_off(api, who, agent)
        await api.call(AGENT1, "PUT", "/me/presence", {"presence": "ready"})
        await _work_off(api, AGENT1, a1)  # whatever still waits in its queues
        record = await api.call(SUP, "POST", "/interactions", {"channel": "voice", "direction": "in"}, 201)
        call = await task(SUP, queue_id=billing, channel="voice", interaction_id=record["id"])
        assert await _offered_to(api, a1) == call
        await api.call(AGENT1, "POST", f"/tasks/{call}/accept")
        await api.call(AGENT1, "POST", f"/tasks/{call}/complete")
        await _poll(lambda: _agent_is(copy, a1, "wrapup"), "wrap-up after the call")
        await _poll(lambda: _agent_is(copy, a1, "available"), "the end of wrap-up")
        # the end of wrap-up is the end of the contact's handle time: written on its interaction
        ended = (await api.call(SUP, "GET", f"/interactions/{record['id']}"))["wrapup_ended_at"]
        assert ended is not None and datetime.fromisoformat(ended) > datetime.fromisoformat(record["created_at"])
        await api.call(AGENT3, "PUT", "/me/presence", {"presence": "offline"})

        # events that are not routing's pass through the same stream
        customer = await api.call(SUP, "POST", "/customers", {"name": "Live Test", "language": "pl"}, 201)
        consent = {"purpose": "marketing_phone", "granted": True, "channel": "voice", "source": "call"}
        await api.call(SUP, "POST", f"/customers/{customer['id']}/consent", consent, 201)
        await copy.feed.wait_for(lambda m: m["type"] == "consent.changed", "consent.changed")
        await copy.matches_a_fresh_snapshot()

        seen = {e["type"] for e in copy.feed.events}
        kinds = ("task_queued", "task_scheduled", "offer", "offer_returned", "offer_accepted", "task_completed",
                 "task_abandoned", "task_exited", "preferred_fallback", "agent_state")  # fmt: skip
        assert {f"routing.{k}" for k in kinds} <= seen, sorted(seen)
        assert copy.applied > 40

        # the server-sent events stream carried the very same events
        ws_seqs = [e["seq"] for e in copy.feed.events]
        await _poll(lambda: _at_least(sse_seqs, ws_seqs[-1]), "the SSE stream to catch up")
        assert [s for s in sse_seqs if s <= ws_seqs[-1]] == [s for s in ws_seqs if s > copy.replica_seq0]
    finally:
        sse.cancel()
        await copy.feed.close()


async def _is(copy: Copy, task_id: int, state: str | None, after_offer: bool = False) -> bool:
    view = await copy.task(task_id)
    if after_offer and not any(
        e["type"] == "routing.offer_returned" and e["data"]["task"] == task_id for e in copy.feed.events
    ):
        return False
    return (view["state"] if view else None) == state


async def _agent_is(copy: Copy, agent: int, state: str) -> bool:
    copy.catch_up()
    return copy.replica.agents[agent].state == state


async def _at_least(seqs: list[int], seq: int) -> bool:
    return bool(seqs) and seqs[-1] >= seq


async def _read_sse(base_url: str, token: str, seqs: list[int], connected: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(5, read=60)) as client,
        client.stream("GET", f"{base_url}/api/v1/events", headers=headers) as r,
    ):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        async for line in r.aiter_lines():
            if line.startswith(": connected"):
                connected.set()
            if line.startswith("id: "):
                seqs.append(int(line[4:]))


async def test_the_gate_closes_sockets_with_the_documented_codes(api: Api, live: LiveServer, live_db: str) -> None:
    async def refused(**kwargs: Any) -> int | None:
        feed = await Feed.open(live.base_url, **kwargs)
        code = await feed.closed()
        assert not any(m["type"] == "ready" for m in feed.messages)
        return code

    async def sends(text: str) -> int | None:
        feed = await Feed.open(live.base_url)
        await feed.conn.send(text)
        return await feed.closed()

    silent = asyncio.create_task(refused())  # no credentials at all: closed when the wait for them ends
    assert await refused(headers={"Authorization": "Bearer not-a-token"}) == wsgate.UNAUTHENTICATED
    assert await refused(token="not-a-token") == wsgate.UNAUTHENTICATED
    assert await sends('{"type": "auth"}') == wsgate.BAD_REQUEST
    assert await sends("not json") == wsgate.BAD_REQUEST
    assert await sends('{"type": "auth", "token": "x\\u0000"}') == wsgate.BAD_REQUEST
    root = await api.token(ROOT)
    assert await refused(token=root, tenant="no-such-tenant") == wsgate.NOT_FOUND
    assert await silent == wsgate.UNAUTHENTICATED

    # a page of another site cannot open a socket; the server's own pages and the configured origin can
    with pytest.raises(InvalidStatus) as refusal:
        await connect(ws_url(live.base_url), origin="https://evil.example.test")  # type: ignore[arg-type]
    assert refusal.value.response.status_code == 403
    token = await api.token(SUP)
    for origin in (live.base_url, "https://desk.example.test"):
        feed = await Feed.open(live.base_url, token=token, origin=origin)
        assert (await feed.ready())["user_id"] == (await _user_ids(api))[SUP]
        await feed.close()

    # the stream takes no messages; a session that ends closes the socket at the next keep-alive (1 s here)
    feed = await Feed.open(live.base_url, token=token)
    await feed.ready()
    await feed.conn.send('{"type": "hello"}')
    assert await feed.closed() == wsgate.POLICY
    r = await api.client.post("/auth/login", json={"email": AGENT3, "password": demo.PASSWORD})
    short = r.json()["token"]
    feed = await Feed.open(live.base_url, headers={"Authorization": f"Bearer {short}"})
    await feed.wait_for(lambda m: m["type"] == "keepalive", "a keep-alive")
    await api.client.post("/auth/logout", headers={"Authorization": f"Bearer {short}"})
    assert await feed.closed() == wsgate.UNAUTHENTICATED


async def test_each_socket_gets_its_tenant_and_an_agent_only_its_own_events(
    api: Api, live: LiveServer, live_db: str
) -> None:
    ids = await _user_ids(api)
    queues = {q["name"]: q["id"] for q in await api.call(SUP, "GET", "/queues")}
    acme = await Feed.open(live.base_url, token=await api.token("admin@acme.test"))
    mine = await Feed.open(live.base_url, headers={"Authorization": f"Bearer {await api.token(AGENT1)}"})
    everyone = await Feed.open(live.base_url, token=await api.token(ROOT))  # no tenant: all
    for feed in (acme, mine, everyone):
        await feed.ready()
    try:
        # demo activity around agent2, then one event for agent1 and one in acme: each is the last its socket gets
        await api.call(AGENT1, "PUT", "/me/presence", {"presence": "break"})
        await _work_off(api, AGENT1, ids[AGENT1])
        await api.call(AGENT2, "PUT", "/me/presence", {"presence": "ready"})
        task = await api.call(SUP, "POST", "/tasks", {"queue_id": queues["Technical"], "channel": "chat"}, 201)
        assert await _offered_to(api, ids[AGENT2]) == task["id"]
        await api.call(SUP, "DELETE", f"/tasks/{task['id']}")
        await api.call(AGENT1, "PUT", "/me/presence", {"presence": "break", "reason": "marker"})
        acme_admin = "admin@acme.test"
        await api.call(acme_admin, "POST", "/customers", {"name": "Acme Marker", "language": "en"}, 201)

        own = await mine.wait_for(lambda m: m.get("data", {}).get("reason") == "marker", "agent1's own change")
        marker = await acme.wait_for(lambda m: m["type"] == "customer.created", "acme's own event")
        assert all(e["data"].get("agent") == ids[AGENT1] or e["data"].get("user_id") == ids[AGENT1]
                   for e in mine.events), [e["type"] for e in mine.events]  # fmt: skip
        assert all(e["tenant_id"] == marker["tenant_id"] for e in acme.events)
        await everyone.wait_for(lambda m: m.get("seq") == marker["seq"], "acme's event on the platform socket")
        tenants = {e["tenant_id"] for e in everyone.events}
        assert {own["tenant_id"], marker["tenant_id"]} <= tenants
        assert any(e["data"].get("task") == task["id"] for e in everyone.events)
        assert not any(e["data"].get("task") == task["id"] for e in mine.events + acme.events)
    finally:
        for feed in (acme, mine, everyone):
            await feed.close()


async def test_a_slow_client_is_told_and_closed_and_stopping_the_server_closes_sockets(
    fresh_db_url: Callable[[], Awaitable[str]], tmp_path: Path
) -> None:
    db = await _prepared_db(fresh_db_url)
    with running_server(db, tmp_path, env={"INFOLINIA_EVENTS_BUFFER": "1"}) as server:
        async with httpx.AsyncClient(base_url=f"{server.base_url}/api/v1", timeout=30) as client:
            api = Api(client)
            slow = await Feed.open(server.base_url, token=await api.token(SUP))
            await slow.ready()
            queue = (await api.call(SUP, "GET", "/queues"))[0]["id"]
            await api.call(AGENT1, "PUT", "/me/presence", {"presence": "ready"})
            # one engine call publishes two events at once (queued, offer): more than the buffer holds
            await api.call(SUP, "POST", "/tasks", {"queue_id": queue, "channel": "email"}, 201)
            assert await slow.closed() == wsgate.OVERFLOW
            assert slow.messages[-1] == {"type": "overflow"}

            feed = await Feed.open(server.base_url, token=await api.token(SUP))
            await feed.ready()
            server.proc.terminate()
            assert await feed.closed() == wsgate.SERVER_STOPPING
