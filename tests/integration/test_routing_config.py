"""Routing rules and membership managed through the API reach the running engine before the response returns.

One demo-seeded database and app for the module, whose routing service runs on fixed times (in 2030, so that calls
made without a time, such as the reloads after an API write, happen at the engine's last time and not at the wall
clock's): each test takes the next Monday 00:00 UTC as its start and moves forward from there.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from infolinia import demo
from infolinia.app import Infolinia
from infolinia.config import Settings
from infolinia.routing.model import AgentState, Presence, TaskState
from infolinia.routing.service import RoutingService
from infolinia.store import db as store
from infolinia.store.models import RoutingTask, Tenant, User

API = "/api/v1"
FIRST_MONDAY = datetime(2030, 1, 7, tzinfo=UTC)
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix} {next(_names)}"


@dataclass
class Office:
    """The demo tenant on its own database, with the routing service under a test's clock."""

    center: Infolinia
    client: httpx.AsyncClient
    admin: dict[str, str]
    tenant: int
    weeks: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    start: datetime = FIRST_MONDAY

    @property
    def routing(self) -> RoutingService:
        return self.center.routing

    def next_week(self) -> None:
        self.start = FIRST_MONDAY + timedelta(weeks=next(self.weeks))

    def at(self, seconds: float) -> datetime:
        return self.start + timedelta(seconds=seconds)

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        r = await self.client.request(method, f"{API}{path}", json=body, headers=self.admin)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    async def team(self) -> int:
        return int((await self.call("POST", "/teams", {"name": unique("Team")}, 201))["id"])

    async def agent(self, team_ids: list[int], **profile: Any) -> int:
        body = {"email": f"{unique('routed').replace(' ', '-')}@demo.test", "display_name": "Agent", "role": "agent",
                "password": "s3cret!!", "team_ids": team_ids}  # fmt: skip
        user = int((await self.call("POST", "/users", body, 201))["id"])
        await self.call("PUT", f"/agents/{user}", {"languages": ["pl"], **profile})
        return user

    async def queue(self, **rules: Any) -> int:
        return int((await self.call("POST", "/queues", {"name": unique("Queue"), **rules}, 201))["id"])

    async def ready(self, agent: int, at: float) -> None:
        await self.routing.set_presence(agent, Presence.READY, now=self.at(at))

    async def task(self, queue: int, channel: str, at: float, **fields: Any) -> int:
        row = RoutingTask(tenant_id=self.tenant, queue_id=queue, channel=channel, skills=fields.pop("skills", {}),
                          enqueued_at=self.at(at), **fields)  # fmt: skip
        [task_id] = await self.routing.add_tasks([row], self.at(at))
        return task_id

    async def row(self, task_id: int) -> RoutingTask:
        async with self.center.db.session() as s:
            row = await s.get(RoutingTask, task_id)
        assert row is not None
        return row


@pytest.fixture(scope="module")
async def office(fresh_db_url: Callable[[], Awaitable[str]]) -> AsyncIterator[Office]:
    url = await fresh_db_url()
    await asyncio.to_thread(store.upgrade, url)
    center = Infolinia(Settings(database_url=url, sip_port=0))
    assert await demo.seed(center.db)
    await center.routing.load(FIRST_MONDAY)  # no timer loop: the tests move time
    transport = httpx.ASGITransport(app=center.http_app(), client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://infolinia.test") as client:
        r = await client.post(f"{API}/auth/login", json={"email": "admin@demo.test", "password": demo.PASSWORD})
        client.cookies.clear()
        async with center.db.session() as s:
            tenant = await s.scalar(select(Tenant.id).where(Tenant.slug == "demo"))
        assert tenant is not None
        yield Office(center, client, {"Authorization": f"Bearer {r.json()['token']}"}, tenant)
    await center.db.dispose()


@pytest.fixture
async def o(office: Office) -> AsyncIterator[Office]:
    """The office for one test, from next Monday on; afterwards every open task is withdrawn and every agent is
    offline, so that no test's leftovers are offered to another test's agents."""
    office.next_week()
    yield office
    engine = office.routing.engine
    for task_id in list(engine.tasks):
        await office.routing.cancel(task_id)
    for agent in list(engine.agents):
        if engine.agent_state(agent) is not AgentState.OFFLINE:
            await office.routing.set_presence(agent, Presence.OFFLINE)


# --- queue rules through the API --------------------------------------------------------------------------------

RULES = {
    "strategy": "most_skilled", "sl_target": 0.9, "sl_seconds": 30.0, "aging_s": 60.0, "offer_timeout_s": 20.0,
    "missed_offer_presence": "ready", "wrapup_s": 10.0, "max_wait_s": 600.0, "max_wait_action": "callback",
    "short_abandon_s": 3.0, "closed_action": "night-message", "business_hours": False,
}  # fmt: skip


async def test_queue_rules_round_trip_and_reach_the_engine(o: Office) -> None:
    spare = await o.queue()
    overflow = [
        {"after_s": 60.0, "levels": {"billing": 3}, "any_language": False, "to_queue": None},
        {"after_s": 120.0, "levels": {}, "any_language": True, "to_queue": spare},
    ]
    created = await o.call("POST", "/queues", {"name": unique("Rules"), **RULES, "overflow": overflow}, 201)
    assert {k: created[k] for k in RULES} == RULES and created["overflow"] == overflow
    assert await o.call("GET", f"/queues/{created['id']}") == created
    spec = o.routing.engine.queues[created["id"]].spec
    assert (spec.strategy.value, spec.aging_s, spec.max_wait_action, spec.missed_offer_presence) == (
        "most_skilled", 60.0, "callback", Presence.READY,
    )  # fmt: skip
    assert [(s.after_s, dict(s.levels), s.any_language, s.to_queue) for s in spec.overflow] == [
        (60.0, {"billing": 3}, False, None), (120.0, {}, True, spare),
    ]  # fmt: skip

    patched = await o.call("PATCH", f"/queues/{created['id']}", {"wrapup_s": 0, "aging_s": None, "overflow": []})
    assert (patched["wrapup_s"], patched["aging_s"], patched["overflow"]) == (0.0, None, [])
    assert patched["strategy"] == "most_skilled" and patched["max_wait_s"] == 600.0  # the rest is kept
    spec = o.routing.engine.queues[created["id"]].spec
    assert (spec.wrapup_s, spec.aging_s, spec.overflow) == (0.0, None, ())

    defaults = await o.call("POST", "/queues", {"name": unique("Defaults")}, 201)
    assert (defaults["strategy"], defaults["business_hours"], defaults["overflow"]) == ("longest_idle", True, [])
    assert (defaults["offer_timeout_s"], defaults["missed_offer_presence"]) == (15.0, "break")


BAD_RULES: list[tuple[str, Any]] = [
    ("strategy", "fastest"), ("strategy", None), ("sl_target", 0), ("sl_target", 1.5), ("sl_seconds", 0),
    ("sl_seconds", 86_400), ("aging_s", 0), ("aging_s", -5), ("offer_timeout_s", 0.5), ("offer_timeout_s", 3600),
    ("missed_offer_presence", "offline"), ("wrapup_s", -1), ("wrapup_s", 7200), ("max_wait_s", 0),
    ("max_wait_s", 10**9), ("max_wait_action", "Voice Mail"), ("max_wait_action", "a" * 33), ("closed_action", ""),
    ("short_abandon_s", -1), ("business_hours", "maybe"), ("business_hours", None),
    ("overflow", [{"after_s": 60, "any_language": True}] * 11),
    ("overflow", [{"after_s": 0, "any_language": True}]),
    ("overflow", [{"after_s": 60, "any_language": True}, {"after_s": 30, "any_language": True}]),
    ("overflow", [{"after_s": 60, "any_language": True}, {"after_s": 60, "levels": {"billing": 1}}]),
    ("overflow", [{"after_s": 60, "levels": {"billing": 11}}]),
    ("overflow", [{"after_s": 60, "levels": {"Not A Skill": 1}}]),
    ("overflow", [{"after_s": 60}]),  # changes nothing
    ("overflow", [{"after_s": 60, "to_queue": 2**31}]),
    ("overflow", [{"after_s": 60, "to_queue": 1, "colour": "red"}]),
    ("overflow", None),
]  # fmt: skip


@pytest.mark.parametrize(("field_name", "value"), BAD_RULES, ids=[f"{f}={str(v)[:30]}" for f, v in BAD_RULES])
async def test_bad_rules_are_refused_and_nothing_is_stored(office: Office, field_name: str, value: Any) -> None:
    name = unique("Refused")
    r = await office.client.post(f"{API}/queues", json={"name": name, field_name: value}, headers=office.admin)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"
    queue = (await office.call("GET", "/queues"))[0]["id"]
    r = await office.client.patch(f"{API}/queues/{queue}", json={field_name: value}, headers=office.admin)
    assert r.status_code == 422, r.text
    names = {q["name"] for q in await office.call("GET", "/queues")}
    assert name not in names


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_numbers_are_refused(office: Office, number: str) -> None:
    body = f'{{"name": "Finite", "sl_seconds": {number}}}'
    headers = {**office.admin, "Content-Type": "application/json"}
    r = await office.client.post(f"{API}/queues", content=body, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", r.text


async def test_overflow_only_to_another_queue_of_the_same_tenant(o: Office) -> None:
    async with o.center.db.session() as s:
        acme_queue = await s.scalar(select(Tenant.id).where(Tenant.slug == "acme"))
        from infolinia.store.models import Queue

        acme_queue = await s.scalar(select(Queue.id).where(Queue.tenant_id == acme_queue))
    step = {"after_s": 30, "to_queue": acme_queue}
    r = await o.client.post(f"{API}/queues", json={"name": unique("Leaky"), "overflow": [step]}, headers=o.admin)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_reference", r.text
    assert r.json()["error"]["details"] == {"field": "overflow[0].to_queue"}
    missing = {"after_s": 30, "to_queue": 999_999}
    r = await o.client.post(f"{API}/queues", json={"name": unique("Lost"), "overflow": [missing]}, headers=o.admin)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_reference"
    assert r.json()["error"]["message"] == "overflow[0].to_queue 999999 does not exist"  # as if it did not exist

    queue = await o.queue()
    r = await o.client.patch(f"{API}/queues/{queue}", json={"overflow": [{"after_s": 30, "to_queue": queue}]},
                             headers=o.admin)  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_overflow", r.text
    late = {"max_wait_s": 60, "overflow": [{"after_s": 60, "any_language": True}]}
    r = await o.client.patch(f"{API}/queues/{queue}", json=late, headers=o.admin)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_overflow", r.text
    kept = await o.call("GET", f"/queues/{queue}")
    assert kept["overflow"] == [] and kept["max_wait_s"] is None
    assert o.routing.engine.queues[queue].spec.overflow == ()


# --- rules changed live -----------------------------------------------------------------------------------------


async def test_a_patched_strategy_routes_the_next_task_differently(o: Office) -> None:
    team = await o.team()
    weak = await o.agent([team], skills={"billing": 2})
    strong = await o.agent([team], skills={"billing": 9})
    queue = await o.queue(team_id=team)
    await o.ready(weak, 0)  # idle longest
    await o.ready(strong, 10)
    first = await o.task(queue, "email", 20, skills={"billing": 1})
    assert (await o.row(first)).agent_id == weak  # longest idle
    await o.routing.cancel(first, o.at(21))

    await o.call("PATCH", f"/queues/{queue}", {"strategy": "most_skilled"})
    second = await o.task(queue, "email", 22, skills={"billing": 1})
    assert (await o.row(second)).agent_id == strong


async def test_a_patched_overflow_moves_a_waiting_task(o: Office) -> None:
    front, back = await o.team(), await o.team()
    helper = await o.agent([back])
    target = await o.queue(team_id=back)
    origin = await o.queue(team_id=front)  # nobody in this team
    await o.ready(helper, 0)
    waiting = await o.task(origin, "email", 10, skills={"billing": 5})
    await o.call("PATCH", f"/queues/{origin}", {"overflow": [{"after_s": 60, "to_queue": target,
                                                               "levels": {"billing": 0}}]})  # fmt: skip
    await o.routing.tick(o.at(69.9))
    assert (await o.row(waiting)).queue_id == origin
    await o.routing.tick(o.at(70))
    row = await o.row(waiting)
    assert (row.queue_id, row.skills, row.state, row.agent_id) == (target, {}, "reserved", helper)


async def test_team_membership_decides_who_receives_a_queues_tasks(o: Office) -> None:
    team, other = await o.team(), await o.team()
    outsider = await o.agent([other])
    queue = await o.queue(team_id=team)
    await o.ready(outsider, 0)
    first = await o.task(queue, "email", 1)
    assert (await o.row(first)).state == "waiting"

    await o.call("PATCH", f"/users/{outsider}", {"team_ids": [other, team]})
    row = await o.row(first)
    assert (row.state, row.agent_id) == ("reserved", outsider)  # offered before the response returned
    await o.routing.accept(first, o.at(2))

    await o.call("PATCH", f"/users/{outsider}", {"team_ids": [other]})
    second = await o.task(queue, "email", 3)
    assert (await o.row(second)).state == "waiting"
    assert (await o.row(first)).state == "assigned"  # work in hand stays with the agent

    await o.call("PATCH", f"/queues/{queue}", {"team_id": other})  # the queue moves to the agent's team
    assert (await o.row(second)).agent_id == outsider
    await o.call("PATCH", f"/queues/{queue}", {"team_id": None})  # no team: every agent of the tenant
    assert queue in o.routing.engine.agents[outsider].spec.queues


async def test_capacity_change_is_respected(o: Office) -> None:
    team = await o.team()
    agent = await o.agent([team], capacity={"chat": 2})
    profile = await o.call("GET", f"/agents/{agent}")
    assert profile["capacity"] == {"voice": 1, "callback": 1, "chat": 2, "email": 5, "case": 5}
    assert profile["voice_exclusive"] is True
    queue = await o.queue(team_id=team, business_hours=False)  # chats at 01:00 in Warsaw
    await o.ready(agent, 0)
    chats = [await o.task(queue, "chat", 1 + i) for i in range(3)]
    for i, chat in enumerate(chats[:2]):
        assert (await o.row(chat)).state == "reserved"
        await o.routing.accept(chat, o.at(10 + i))
    assert (await o.row(chats[2])).state == "waiting"  # two chats at once, no more

    await o.call("PUT", f"/agents/{agent}", {"capacity": {"chat": 3}, "voice_exclusive": False})
    assert (await o.row(chats[2])).state == "reserved"
    profile = await o.call("GET", f"/agents/{agent}")
    assert profile["capacity"]["chat"] == 3 and profile["capacity"]["email"] == 5  # only the channel given
    assert profile["voice_exclusive"] is False

    for bad in ({"capacity": {"chat": 21}}, {"capacity": {"chat": -1}}, {"capacity": {"fax": 1}},
                {"capacity": None}, {"voice_exclusive": None}):  # fmt: skip
        r = await o.client.put(f"{API}/agents/{agent}", json=bad, headers=o.admin)
        assert r.status_code == 422, (bad, r.text)


# --- business hours ---------------------------------------------------------------------------------------------


async def test_closed_queue_refuses_calls_and_chats_but_keeps_emails(o: Office) -> None:
    # demo: Mon-Fri 08:00-20:00 Europe/Warsaw (UTC+1 in January); the week starts Monday 00:00 UTC
    queue = await o.queue(closed_action="night-message")
    night, day = 2 * 3600, 10 * 3600  # 03:00 and 11:00 in Warsaw
    call, chat, email = [await o.task(queue, ch, night) for ch in ("voice", "chat", "email")]
    for task_id in (call, chat):
        row = await o.row(task_id)
        assert (row.state, row.outcome) == ("done", "exited:night-message")
    assert (await o.row(email)).state == "waiting"
    assert o.routing.engine.task_state(email) is TaskState.WAITING
    assert (await o.row(await o.task(queue, "voice", day))).state == "waiting"

    always = await o.queue(business_hours=False)
    assert (await o.row(await o.task(always, "voice", day + 12 * 3600))).state == "waiting"  # 23:00


async def test_a_new_tenant_calendar_reaches_the_queues(o: Office) -> None:
    queue = await o.queue()
    tenant = f"/tenants/{o.tenant}"
    hours = (await o.call("GET", tenant))["business_hours"]
    try:
        all_day = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        await o.call("PATCH", tenant, {"business_hours": {"weekly": all_day, "holidays": []}})
        assert (await o.row(await o.task(queue, "voice", 3600))).state == "waiting"  # 02:00 Warsaw: open now
        await o.call("PATCH", tenant, {"timezone": "Pacific/Kiritimati"})  # UTC+14: it is Monday 16:00 there
        await o.call("PATCH", tenant, {"business_hours": hours})
        assert (await o.row(await o.task(queue, "voice", 3601))).state == "waiting"
        assert (await o.row(await o.task(queue, "voice", 6 * 3600))).state == "done"  # 20:00 there: closed
    finally:
        await o.call("PATCH", tenant, {"business_hours": hours, "timezone": "Europe/Warsaw"})


# --- deactivation -----------------------------------------------------------------------------------------------


async def test_a_deactivated_agent_hands_its_work_back(o: Office) -> None:
    team = await o.team()
    leaving = await o.agent([team])
    queue = await o.queue(team_id=team)
    await o.ready(leaving, 0)
    held = await o.task(queue, "email", 1)
    await o.routing.accept(held, o.at(2))
    offered = await o.task(queue, "email", 3)
    assert (await o.row(offered)).agent_id == leaving
    stays = await o.agent([team])
    await o.ready(stays, 4)

    await o.call("PATCH", f"/users/{leaving}", {"active": False})
    assert leaving not in o.routing.engine.agents
    held_row, offered_row = await o.row(held), await o.row(offered)
    assert (held_row.state, held_row.agent_id, held_row.assigned_at) == ("reserved", stays, None)  # first in line
    assert (offered_row.state, offered_row.agent_id) == ("waiting", None)
    async with o.center.db.session() as s:
        assert (await s.scalar(select(User.active).where(User.id == leaving))) is False
    r = await o.client.put(f"{API}/agents/{leaving}/presence", json={"presence": "ready"}, headers=o.admin)
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_an_agent"

    await o.call("PATCH", f"/users/{leaving}", {"active": True})
    assert o.routing.engine.agent_state(leaving) is AgentState.OFFLINE  # back, until it says it is ready
    await o.ready(leaving, 5)
    assert (await o.row(offered)).agent_id == leaving  # it did not decline it: it may have it now


# --- restart ----------------------------------------------------------------------------------------------------


async def test_restart_puts_assigned_tasks_back_on_their_agents(o: Office) -> None:
    team = await o.team()
    busy = await o.agent([team], capacity={"chat": 2, "email": 0})
    moved = await o.agent([team])
    gone = await o.agent([team])
    queue = await o.queue(team_id=team, business_hours=False)
    for agent in (busy, moved, gone):
        await o.ready(agent, 0)
    chats = []
    for i in range(2):
        chats.append(await o.task(queue, "chat", 10 + i))
        await o.routing.accept(chats[-1], o.at(20 + i))
    assert {(await o.row(c)).agent_id for c in chats} == {busy}
    emails = [await o.task(queue, "email", 30 + i) for i in range(2)]
    for email in emails:
        await o.routing.accept(email, o.at(40))
    by_agent = {(await o.row(e)).agent_id: e for e in emails}
    assert set(by_agent) == {moved, gone}
    assert (await o.row(chats[0])).assigned_at == o.at(20)

    await o.call("PATCH", f"/users/{moved}", {"team_ids": []})  # keeps its work while the process runs
    async with o.center.db.session() as s:  # deactivated while the process was down (e.g. another node)
        await s.execute(update(User).where(User.id == gone).values(active=False))
        await s.commit()

    again = RoutingService(o.center.db)
    restored = await again.load(o.at(100))
    assert restored >= 4
    engine = again.engine
    assert [engine.task_agent(c) for c in chats] == [busy, busy]
    assert engine.agent_state(busy) is AgentState.BUSY
    assert engine.task_agent(by_agent[moved]) == moved  # restored on it even though it left the team
    assert (await o.row(by_agent[moved])).state == "assigned"
    gone_row = await o.row(by_agent[gone])
    assert (gone_row.state, gone_row.agent_id) == ("waiting", None)  # its agent is gone: waits in its place
    assert engine.task_state(by_agent[gone]) is TaskState.WAITING
    assert engine.queue_stats(queue, o.at(100).timestamp())["answered"] == 0  # not answered again

    third = RoutingTask(tenant_id=o.tenant, queue_id=queue, channel="chat", skills={}, enqueued_at=o.at(101))
    [third_id] = await again.add_tasks([third], o.at(101))
    assert engine.task_state(third_id) is TaskState.WAITING  # busy has its two chats: no room
    await again.complete(chats[0], o.at(102))
    assert engine.task_agent(third_id) == busy
