"""Callbacks through the API: promised, scheduled, attempted, retried, cancelled; broken promises found; a tenant's
policy; and every step in the database and the routing engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.outbound.actions import mark_broken_promises
from infolinia.store.models import Callback, RoutingTask, User
from infolinia.store.uow import SYSTEM, write
from tests.conftest import Login

API = "/api/v1"


@pytest.fixture(scope="module")
async def queue(client: httpx.AsyncClient, login: Login) -> int:
    """A queue of the demo tenant that no agent serves: its tasks stay where the callbacks put them."""
    admin = await login("admin@demo.test")
    r = await client.post(f"{API}/queues", json={"name": "Callback tests"}, headers=admin)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def request(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await client.post(f"{API}/callbacks", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def attempt_at(
    client: httpx.AsyncClient, headers: dict[str, str], cb: dict[str, Any], outcome: str, when: str
) -> dict[str, Any]:
    """An attempt of ``cb`` that started and ended at ``when`` (ISO); the callback after it."""
    body = {"outcome": outcome, "started_at": when, "ended_at": when}
    r = await client.post(f"{API}/callbacks/{cb['id']}/attempts", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def task_row(center: Infolinia, task_id: int) -> RoutingTask:
    async with center.db.session() as s:
        row = await s.get(RoutingTask, task_id)
        assert row is not None
        return row


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_as_soon_as_possible_is_promised_within_the_policy_and_waits_in_its_queue(
    client: httpx.AsyncClient, login: Login, center: Infolinia, queue: int
) -> None:
    agent = await login("agent1@demo.test")
    before = datetime.now(UTC)
    cb = await request(client, agent, queue_id=queue, number="600 100 200", reason="invoice question")
    assert cb["number"] == "+48600100200" and cb["status"] == "scheduled" and cb["source"] == "api"
    assert cb["attempts"] == 0 and cb["promise_kept"] is None
    requested = at(cb["requested_at"])
    assert before - timedelta(seconds=1) <= requested <= datetime.now(UTC)
    assert at(cb["due_at"]) == at(cb["not_before"]) == requested
    assert at(cb["keep_by"]) == requested + timedelta(minutes=15)
    task = await task_row(center, cb["routing_task_id"])
    assert (task.channel, task.state, task.queue_id) == ("callback", "waiting", queue)
    assert task.callback_number == "+48600100200"
    assert center.routing.engine.position(task.id) is not None  # the engine has it
    got = (await client.get(f"{API}/callbacks/{cb['id']}", headers=agent)).json()
    assert got == cb


async def test_an_agreed_time_personal_to_the_agent(
    client: httpx.AsyncClient, login: Login, center: Infolinia, queue: int
) -> None:
    agent = await login("agent1@demo.test")
    async with center.db.session() as s:
        me = await s.scalar(select(User.id).where(User.email == "agent1@demo.test"))
    agreed = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    warsaw = agreed.astimezone(ZoneInfo("Europe/Warsaw"))
    cb = await request(
        client, agent, queue_id=queue, number="+48600100201", at=warsaw.isoformat(), personal_agent_id=me
    )
    assert cb["source"] == "agent" and cb["personal_agent_id"] == me
    assert at(cb["due_at"]) == agreed  # any offset in, UTC out
    assert at(cb["not_before"]) == agreed - timedelta(minutes=2) and at(cb["keep_by"]) == agreed + timedelta(minutes=2)
    assert at(cb["personal_until"]) == agreed + timedelta(minutes=10)
    task = await task_row(center, cb["routing_task_id"])
    assert task.state == "scheduled" and task.not_before == agreed - timedelta(minutes=2)
    assert (task.preferred_agent_id, task.preferred_until) == (me, agreed + timedelta(minutes=10))


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"number": "12"}, 422, None),
        ({"number": "not a number"}, 422, "invalid_number"),
        ({"number": "+48600100200", "at": "2020-01-01T10:00:00+00:00"}, 422, "invalid_time"),
        ({"number": "+48600100200", "at": "2030-01-01T10:00:00"}, 422, None),  # no offset: whose 10:00?
        ({"number": "+48600100200", "queue_id": 2**31 - 1}, 422, "unknown_reference"),
        ({"number": "+48600100200", "personal_agent_id": 2**31 - 1}, 422, "unknown_reference"),
        ({"number": "+48600100200", "priority": 101}, 422, None),
        ({"number": "+48600100200", "color": "red"}, 422, None),
    ],
)
async def test_bad_requests_are_refused_and_leave_nothing(
    client: httpx.AsyncClient, login: Login, center: Infolinia, queue: int, body: dict[str, Any], status: int,
    code: str | None,
) -> None:  # fmt: skip
    agent = await login("agent1@demo.test")
    async with center.db.session() as s:
        count = len(list(await s.scalars(select(Callback.id))))
    r = await client.post(f"{API}/callbacks", json={"queue_id": queue} | body, headers=agent)
    assert r.status_code == status, r.text
    if code is not None:
        assert r.json()["error"]["code"] == code
    async with center.db.session() as s:
        assert len(list(await s.scalars(select(Callback.id)))) == count


async def test_the_customer_is_found_by_the_number(client: httpx.AsyncClient, login: Login, queue: int) -> None:
    agent = await login("agent1@demo.test")
    r = await client.post(
        f"{API}/customers",
        json={"name": "Callback Customer", "identities": [{"kind": "phone", "value": "+48600100299"}]},
        headers=agent,
    )
    assert r.status_code == 201, r.text
    cb = await request(client, agent, queue_id=queue, number="600-100-299")
    assert cb["customer_id"] == r.json()["id"]


async def test_attempts_retry_then_complete_and_judge_the_promise(
    client: httpx.AsyncClient, login: Login, center: Infolinia, queue: int
) -> None:
    agent = await login("agent1@demo.test")
    cb = await request(client, agent, queue_id=queue, number="+48600100202")
    first_task = cb["routing_task_id"]
    r = await client.post(f"{API}/callbacks/{cb['id']}/attempts", json={"outcome": "no_answer"}, headers=agent)
    assert r.status_code == 200, r.text
    after = r.json()
    assert (after["status"], after["attempts"], after["last_outcome"], after["promise_kept"]) == (
        "scheduled", 1, "no_answer", True,
    )  # fmt: skip
    assert after["routing_task_id"] != first_task
    old = await task_row(center, first_task)
    assert (old.state, old.outcome) == ("done", "exited:withdrawn")
    assert center.routing.engine.position(first_task) is None
    retry = await task_row(center, after["routing_task_id"])
    ended = at(after["first_attempt_at"])
    assert retry.state == "scheduled" and retry.not_before is not None
    assert abs(retry.not_before - (ended + timedelta(minutes=30))) < timedelta(seconds=5)
    assert at(after["next_attempt_at"]) == retry.not_before
    r = await client.post(f"{API}/callbacks/{cb['id']}/attempts", json={"outcome": "connected"}, headers=agent)
    done = r.json()
    assert (done["status"], done["attempts"], done["next_attempt_at"]) == ("completed", 2, None)
    assert (await task_row(center, retry.id)).state == "done"
    r = await client.post(f"{API}/callbacks/{cb['id']}/attempts", json={"outcome": "connected"}, headers=agent)
    assert r.status_code == 409 and r.json()["error"]["code"] == "callback_closed"


async def test_a_late_first_attempt_breaks_the_promise(client: httpx.AsyncClient, login: Login, queue: int) -> None:
    agent = await login("agent1@demo.test")
    cb = await request(client, agent, queue_id=queue, number="+48600100203")
    late = (at(cb["keep_by"]) + timedelta(minutes=1)).isoformat()
    assert (await attempt_at(client, agent, cb, "busy", late))["promise_kept"] is False


async def test_later_and_stop(client: httpx.AsyncClient, login: Login, queue: int) -> None:
    agent = await login("agent1@demo.test")
    customer = await client.post(
        f"{API}/customers",
        json={
            "name": "Stop Calling",
            "identities": [{"kind": "phone", "value": "+48600100298"}],
            "consents": [{"purpose": "marketing_phone", "granted": True, "channel": "web", "source": "signup"}],
        },
        headers=agent,
    )
    cid = customer.json()["id"]
    cb = await request(client, agent, queue_id=queue, number="+48600100298")
    later = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    r = await client.post(f"{API}/callbacks/{cb['id']}/attempts", json={"outcome": "later"}, headers=agent)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_time"
    r = await client.post(
        f"{API}/callbacks/{cb['id']}/attempts", json={"outcome": "later", "later": later.isoformat()}, headers=agent
    )
    assert r.json()["status"] == "scheduled" and at(r.json()["next_attempt_at"]) == later
    r = await client.post(
        f"{API}/callbacks/{cb['id']}/attempts", json={"outcome": "stop", "note": "no more calls"}, headers=agent
    )
    assert r.json()["status"] == "stopped"
    got = (await client.get(f"{API}/customers/{cid}", headers=agent)).json()
    assert got["consent"]["marketing_phone"] is False
    history = (await client.get(f"{API}/customers/{cid}/consent", headers=agent)).json()
    assert history[-1]["source"] == f"callback {cb['id']}: asked not to be called"


async def test_cancel_withdraws_the_task_without_counting_an_abandon(
    client: httpx.AsyncClient, login: Login, center: Infolinia, queue: int
) -> None:
    sup = await login("supervisor@demo.test")
    cb = await request(client, sup, queue_id=queue, number="+48600100204")
    abandoned = center.routing.engine.queues[queue].stats.abandoned
    r = await client.post(f"{API}/callbacks/{cb['id']}/cancel", json={"reason": "customer called in"}, headers=sup)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    task = await task_row(center, cb["routing_task_id"])
    assert (task.state, task.outcome) == ("done", "exited:withdrawn")
    assert center.routing.engine.queues[queue].stats.abandoned == abandoned
    r = await client.post(f"{API}/callbacks/{cb['id']}/cancel", json={"reason": "again"}, headers=sup)
    assert r.status_code == 409
    params = {"action": "callback.cancelled", "object_id": cb["id"]}
    audit = await client.get(f"{API}/audit", params=params, headers=sup)
    assert len(audit.json()["items"]) == 1


async def test_promises_not_kept_are_found_before_the_call(
    client: httpx.AsyncClient, login: Login, center: Infolinia, queue: int
) -> None:
    agent = await login("agent1@demo.test")
    cb = await request(client, agent, queue_id=queue, number="+48600100205")
    async with write(center.db, center.bus, SYSTEM) as tx:
        assert cb["id"] not in await mark_broken_promises(tx, at(cb["keep_by"]))  # not yet
    async with write(center.db, center.bus, SYSTEM) as tx:
        broken = await mark_broken_promises(tx, at(cb["keep_by"]) + timedelta(seconds=1))
    assert cb["id"] in broken
    got = (await client.get(f"{API}/callbacks/{cb['id']}", headers=agent)).json()
    assert got["promise_kept"] is False
    listed = (await client.get(f"{API}/callbacks", params={"promise_kept": "false"}, headers=agent)).json()
    assert cb["id"] in [c["id"] for c in listed["items"]]
    # the call that comes afterwards, even within the interval by its own clock, does not mend it
    r = await client.post(f"{API}/callbacks/{cb['id']}/attempts", json={"outcome": "connected"}, headers=agent)
    assert r.json()["promise_kept"] is False


async def test_list_filters_and_pages(client: httpx.AsyncClient, login: Login, queue: int) -> None:
    agent = await login("agent1@demo.test")
    made = [await request(client, agent, queue_id=queue, number=f"+4860020030{i}") for i in range(3)]
    page = (await client.get(f"{API}/callbacks", params={"queue_id": queue, "limit": 2}, headers=agent)).json()
    assert len(page["items"]) == 2 and page["next_cursor"] is not None
    rest = (
        await client.get(
            f"{API}/callbacks", params={"queue_id": queue, "limit": 500, "after": page["next_cursor"]}, headers=agent
        )
    ).json()
    ids = [c["id"] for c in page["items"] + rest["items"]]
    assert ids == sorted(ids) and {c["id"] for c in made} <= set(ids)
    scheduled = (await client.get(f"{API}/callbacks", params={"status": "scheduled"}, headers=agent)).json()
    assert all(c["status"] == "scheduled" for c in scheduled["items"])
    r = await client.get(f"{API}/callbacks", params={"status": "lost"}, headers=agent)
    assert r.status_code == 422


async def test_a_tenant_policy_is_validated_and_applied(
    client: httpx.AsyncClient, login: Login, center: Infolinia, queue: int
) -> None:
    admin = await login("admin@demo.test")
    tenant = (await client.get(f"{API}/tenants", headers=admin)).json()
    tid = (tenant["items"] if isinstance(tenant, dict) else tenant)[0]["id"]
    r = await client.patch(f"{API}/tenants/{tid}", json={"callback_policy": {"asap_minutes": 0}}, headers=admin)
    assert r.status_code == 422 and "asap_minutes" in r.text
    try:
        r = await client.patch(
            f"{API}/tenants/{tid}", json={"callback_policy": {"asap_minutes": 5, "max_attempts": 1}}, headers=admin
        )
        assert r.status_code == 200, r.text
        assert r.json()["callback_policy"]["asap_minutes"] == 5
        assert r.json()["callback_policy"]["retry_minutes"]["busy"] == 10  # defaults filled in
        cb = await request(client, admin, queue_id=queue, number="+48600100206")
        assert at(cb["keep_by"]) == at(cb["requested_at"]) + timedelta(minutes=5)
        r = await client.post(f"{API}/callbacks/{cb['id']}/attempts", json={"outcome": "busy"}, headers=admin)
        assert r.json()["status"] == "failed"  # one attempt allowed
    finally:
        await client.patch(f"{API}/tenants/{tid}", json={"callback_policy": {}}, headers=admin)


async def test_stats_count_promises_kept_and_broken(
    client: httpx.AsyncClient, login: Login, center: Infolinia, queue: int
) -> None:
    sup = await login("supervisor@demo.test")
    day = datetime.now(UTC) + timedelta(days=30)  # a day of its own: no other test's callbacks are due then
    window = {"since": day.isoformat(), "until": (day + timedelta(hours=4)).isoformat(), "queue_id": queue}
    assert (await client.get(f"{API}/callbacks/stats", params=window, headers=sup)).json()["requested"] == 0
    made = [
        await request(client, sup, queue_id=queue, number=f"+4860040000{i}", at=(day + timedelta(hours=i)).isoformat())
        for i in range(1, 4)
    ]
    on_time, late = made[0], made[1]
    assert (await attempt_at(client, sup, on_time, "connected", on_time["due_at"]))["promise_kept"] is True
    too_late = (at(late["keep_by"]) + timedelta(minutes=5)).isoformat()
    assert (await attempt_at(client, sup, late, "busy", too_late))["promise_kept"] is False
    stats = (await client.get(f"{API}/callbacks/stats", params=window, headers=sup)).json()
    assert (stats["requested"], stats["promise_kept"], stats["promise_broken"], stats["promise_pending"]) == (
        3,
        1,
        1,
        1,
    )
    assert stats["promise_kept_share"] == 0.5
    assert stats["by_status"] == {"completed": 1, "scheduled": 2} and stats["by_source"] == {"api": 3}
    today = (await client.get(f"{API}/callbacks/stats", headers=sup)).json()  # default: today so far
    assert (
        datetime.fromisoformat(today["since"])
        <= datetime.now(UTC)
        <= datetime.fromisoformat(today["until"]) + timedelta(seconds=5)
    )
    bad = await client.get(
        f"{API}/callbacks/stats", params={"since": window["until"], "until": window["since"]}, headers=sup
    )
    assert bad.status_code == 422
