"""The wallboard through the API and the pages, with real data made by the existing actions: contacts through the
interactions API at known times (the board's figures hand-computed, and equal to the contact report's on the same
contacts), a task waiting in a queue of its own, an agent of its own changing state, callbacks, a campaign. Boards
are shared: many viewers asking at once cost one computation. Roles and tenants: agents may not see it, another
tenant sees only its own."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.store.models import Tenant
from tests.conftest import Login
from tests.tenant_api import TenantApi, acme_admin, demo_admin
from tests.ui_helpers import ui_client

__all__ = ["acme_admin", "demo_admin"]

# a Tuesday in summer: Warsaw is UTC+2, so the tenant's day began at 22:00 UTC the day before
NOW = datetime(2012, 6, 5, 12, 0, tzinfo=UTC)


def _t(hour: int, minute: int, day: int = 5) -> datetime:
    return datetime(2012, 6, day, hour, minute, tzinfo=UTC)


async def _contact(admin: TenantApi, queue: int, created: datetime, *, answer_s: float | None = None,
                   abandon_s: float | None = None, talk_s: float = 60) -> None:  # fmt: skip
    body: dict[str, Any] = {"channel": "voice", "direction": "in", "queue_id": queue,
                            "created_at": created.isoformat(), "queued_at": created.isoformat()}  # fmt: skip
    if answer_s is not None:
        answered = created + timedelta(seconds=answer_s)
        body |= {"answered_at": answered.isoformat(), "ended_at": (answered + timedelta(seconds=talk_s)).isoformat()}
    if abandon_s is not None:
        body["ended_at"] = (created + timedelta(seconds=abandon_s)).isoformat()
    await admin.call("POST", "/interactions", body, 201)


async def _queue(admin: TenantApi, **extra: Any) -> dict[str, Any]:
    body = {
        "name": f"Wallboard {uuid.uuid4().hex[:8]}",
        "sl_seconds": 20,
        "short_abandon_s": 5,
        "sl_target": 0.8,
        "business_hours": False,
    }
    return await admin.call("POST", "/queues", body | extra, 201)  # type: ignore[no-any-return]


async def _demo_id(center: Infolinia) -> int:
    async with center.db.session() as s:
        return int(await s.scalar(select(Tenant.id).where(Tenant.slug == "demo")) or 0)


async def test_the_figures_are_the_reports_own(center: Infolinia, demo_admin: TenantApi) -> None:
    queue = (await _queue(demo_admin))["id"]
    await _contact(demo_admin, queue, _t(11, 50), answer_s=10)  # within the last 30 minutes, in the service level
    await _contact(demo_admin, queue, _t(11, 40), answer_s=30)  # in the window, too late for the service level
    await _contact(demo_admin, queue, _t(11, 35), abandon_s=3)  # a short abandon: out of SL and abandon rate
    await _contact(demo_admin, queue, _t(11, 20), abandon_s=60)  # today, before the window
    await _contact(demo_admin, queue, _t(8, 0), answer_s=5)
    await _contact(demo_admin, queue, _t(21, 30, day=4), answer_s=5)  # 23:30 on 4 June in Warsaw: yesterday
    await _contact(demo_admin, queue, _t(12, 5), answer_s=5)  # after the board's instant

    tenant = await _demo_id(center)
    board = await center.wallboard.read(tenant, 0, NOW)
    assert board.day_start == datetime(2012, 6, 4, 22, 0, tzinfo=UTC)
    assert board.window_start == _t(11, 30)
    row = next(q for q in board.queues if q.id == queue)
    today, recent = row.today, row.last_30_min
    # today: 5 offered, 1 short abandon; answered 3 (10, 30, 5 s), 2 within 20 s; 1 abandoned
    assert (today.offered, today.answered, today.short_abandoned, today.abandoned) == (5, 3, 1, 1)
    assert (today.service_level, today.abandon_rate, today.asa_s) == (0.5, 0.25, 15.0)
    # the last 30 minutes: 3 offered, 1 short abandon; answered 2 (10, 30 s), 1 within 20 s
    assert (recent.offered, recent.answered, recent.short_abandoned, recent.abandoned) == (3, 2, 1, 0)
    assert (recent.service_level, recent.abandon_rate, recent.asa_s) == (0.5, 0.0, 20.0)
    assert row.below_target and row.sl_target == 0.8
    assert (row.waiting, row.longest_wait_s, row.oldest_since) == (0, 0.0, None)

    # the contact report on the same contacts and periods: today up to the board's instant, and the half hour
    # before it
    for start, end, figures in (("2012-06-05", "2012-06-05T14:00:00+02:00", today),
                                ("2012-06-05T13:30:00+02:00", "2012-06-05T14:00:00+02:00", recent)):  # fmt: skip
        params = {"from": start, "to": end, "interval": "day", "group_by": "queue", "queue_id": queue}
        r = await demo_admin.client.get("/api/v1/reports/contacts", params=params, headers=demo_admin.headers)
        assert r.status_code == 200, r.text
        (total,) = r.json()["totals"]
        assert {k: total[k] for k in type(figures).model_fields} == figures.model_dump(), (start, total)

    # today's figures before the window's slot are kept between boards, and read again when one of their contacts
    # changes (or a contact is added to them)
    earlier = center.wallboard.earlier(tenant)
    reads = earlier.reads
    assert (await center.wallboard.read(tenant, 0, NOW)).queues == board.queues and earlier.reads == reads
    await _contact(demo_admin, queue, _t(9, 0), abandon_s=2)  # a short abandon early in the day
    again = next(q for q in (await center.wallboard.read(tenant, 0, NOW)).queues if q.id == queue)
    assert (again.today.offered, again.today.short_abandoned, again.last_30_min.offered) == (6, 2, 3)
    assert earlier.reads == reads + 1


async def test_the_board_follows_the_actions(
    center: Infolinia, client: httpx.AsyncClient, login: Login, demo_admin: TenantApi
) -> None:
    """A queue, a team and an agent of their own: a task waits, the agent goes on a break and comes back, takes
    the task; a callback is scheduled. The API's board shows each, including the event it was asked for."""
    team = await demo_admin.call("POST", "/teams", {"name": f"Wallboard {uuid.uuid4().hex[:8]}"}, 201)
    queue = (await _queue(demo_admin, team_id=team["id"]))["id"]
    email = f"wb-{uuid.uuid4().hex[:8]}@demo.test"
    user = await demo_admin.call("POST", "/users", {"email": email, "display_name": "Wanda Wallboard",
                                                    "role": "agent", "password": "wallboard-pass-1",
                                                    "team_ids": [team["id"]]}, 201)  # fmt: skip
    await demo_admin.call("PUT", f"/agents/{user['id']}", {"languages": ["pl"]})
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": "wallboard-pass-1"})
    client.cookies.clear()
    agent = TenantApi(client, {"Authorization": f"Bearer {r.json()['token']}"})
    supervisor = TenantApi(client, await login("supervisor@demo.test"))

    async def board() -> dict[str, Any]:
        seq = center.bus.last_seq
        found: dict[str, Any] = await supervisor.call("GET", f"/wallboard?seq={seq}")
        assert found["seq"] >= seq
        return found

    def row(b: dict[str, Any]) -> dict[str, Any]:
        return next(q for q in b["queues"] if q["id"] == queue)

    def me(b: dict[str, Any]) -> dict[str, Any]:
        return next(a for a in b["agents"] if a["id"] == user["id"])

    assert me(await board())["state"] == "offline"
    # first of all it could be offered: the agent also serves the tenant's queues without a team
    task = await demo_admin.call("POST", "/tasks", {"queue_id": queue, "channel": "chat", "priority": 100}, 201)
    seen = await board()
    assert (row(seen)["waiting"], row(seen)["today"]["offered"]) == (1, 0)  # waiting: no interaction yet
    assert row(seen)["oldest_since"] is not None and row(seen)["longest_wait_s"] >= 0

    await agent.call("PUT", "/me/presence", {"presence": "break", "reason": "Lunch"})
    on_break = me(await board())
    assert (on_break["state"], on_break["reason"]) == ("break", "Lunch")
    began = datetime.fromisoformat(on_break["since"])
    assert abs((datetime.now(UTC) - began).total_seconds()) < 30
    await agent.call("PUT", "/me/presence", {"presence": "ready"})  # the waiting chat is offered at once
    offered = await board()
    assert me(offered)["state"] == "reserved" and row(offered)["waiting"] == 1
    await agent.call("POST", f"/tasks/{task['id']}/accept")
    taken = await board()
    assert me(taken)["state"] == "busy" and row(taken)["waiting"] == 0 and row(taken)["oldest_since"] is None
    assert taken["agent_counts"]["busy"] >= 1

    await agent.call("POST", f"/tasks/{task['id']}/complete")
    await agent.call("PUT", "/me/presence", {"presence": "break"})  # gives back anything offered meanwhile
    await agent.call("PUT", "/me/presence", {"presence": "offline"})
    assert me(await board())["state"] == "offline"

    before = (await board())["callbacks"]
    soon = datetime.now(UTC) + timedelta(minutes=1)  # may start 2 minutes before: due now
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    for at in (soon, tomorrow):
        body = {"queue_id": queue, "number": "+48600100200", "at": at.replace(microsecond=0).isoformat()}
        await demo_admin.call("POST", "/callbacks", body, 201)
    after = await board()
    assert after["callbacks"]["open"] == before["open"] + 2
    assert after["callbacks"]["due"] == before["due"] + 1  # tomorrow's is not due
    assert (row(after)["callbacks_open"], row(after)["callbacks_due"], row(after)["callbacks_overdue"]) == (2, 1, 0)
    stats = await supervisor.call("GET", "/callbacks/stats")
    assert after["callbacks"]["requested_today"] <= stats["requested"]  # the board's instant came first


async def test_a_running_campaign_shows_its_pacing(center: Infolinia, demo_admin: TenantApi) -> None:
    team = await demo_admin.call("POST", "/teams", {"name": f"Nobody {uuid.uuid4().hex[:8]}"}, 201)
    queue = (await _queue(demo_admin, team_id=team["id"]))["id"]  # nobody serves it: nothing is dialed
    name = f"Wallboard {uuid.uuid4().hex[:8]}"
    campaign = await demo_admin.call("POST", "/campaigns", {"name": name, "purpose": "service", "queue_id": queue,
                                                            "mode": "progressive"}, 201)  # fmt: skip
    csv = "number,name\n+48600100300,A\n+48600100301,B\n+48600100302,C\n"
    r = await demo_admin.client.post(f"/api/v1/campaigns/{campaign['id']}/contacts", content=csv.encode(),
                                     headers=demo_admin.headers | {"content-type": "text/csv"})  # fmt: skip
    assert r.status_code in (200, 201), r.text
    board = await center.wallboard.board(await _demo_id(center), center.bus.last_seq)
    assert campaign["id"] not in {c.id for c in board.campaigns}  # a draft is not shown
    await demo_admin.call("PATCH", f"/campaigns/{campaign['id']}", {"status": "running"})
    board = await center.wallboard.board(await _demo_id(center), center.bus.last_seq)
    (shown,) = [c for c in board.campaigns if c.id == campaign["id"]]
    assert (shown.status, shown.contacts_left, shown.in_progress, shown.lines_per_agent) == ("running", 3, 0, None)
    await demo_admin.call("PATCH", f"/campaigns/{campaign['id']}", {"status": "paused"})
    board = await center.wallboard.board(await _demo_id(center), center.bus.last_seq)
    (shown,) = [c for c in board.campaigns if c.id == campaign["id"]]
    assert (shown.mode, shown.status, shown.contacts_left, shown.dials_per_min) == ("progressive", "paused", 3, 0.0)
    assert (shown.abandon_rate_today, shown.over_cap, shown.abandon_cap) == (None, False, 0.03)
    await demo_admin.call("PATCH", f"/campaigns/{campaign['id']}", {"status": "finished"})


async def test_viewers_share_one_computation(center: Infolinia, demo_admin: TenantApi) -> None:
    tenant = await _demo_id(center)
    await _queue(demo_admin)  # a change: the next board must include its event
    seq = center.bus.last_seq
    before = center.wallboard.computed(tenant)
    boards = await asyncio.gather(*(center.wallboard.board(tenant, seq) for _ in range(40)))
    assert center.wallboard.computed(tenant) == before + 1
    assert all(b is boards[0] for b in boards) and boards[0].seq >= seq
    again = await asyncio.gather(*(center.wallboard.board(tenant, seq) for _ in range(40)))
    assert center.wallboard.computed(tenant) == before + 1 and again[0] is boards[0]
    # a seq from the future is read as the newest event, not waited for
    assert (await center.wallboard.board(tenant, 10**12)).seq >= seq


async def test_who_sees_which_board(client: httpx.AsyncClient, login: Login, demo_admin: TenantApi,
                                    acme_admin: TenantApi, http_app: Any) -> None:  # fmt: skip
    queue = await _queue(demo_admin)
    agent = TenantApi(client, await login("agent1@demo.test"))
    await agent.refused("GET", "/wallboard", None, 403, "forbidden")
    acme = await acme_admin.call("GET", "/wallboard")
    assert queue["id"] not in {q["id"] for q in acme["queues"]}
    assert all(not a["name"].endswith("@demo.test") for a in acme["agents"])
    await acme_admin.call("GET", "/wallboard?seq=-1", status=422)

    async with ui_client(http_app, "supervisor@demo.test") as browser:
        page = await browser.get("/wallboard")
        assert page.status_code == 200, page.text
        html = page.text
        assert "<h1>Wallboard</h1>" in html and queue["name"] in html and 'href="/wallboard?tv=1"' in html
        assert 'src="/ui/static/wallboard.js"' in html and "<script>" not in html
        assert "routing.agent_state" in html and 'aria-label="Main"' in html  # the events it follows; the menu
        tv = await browser.get("/wallboard?tv=1")
        assert 'class="tv"' in tv.text and 'aria-label="Main"' not in tv.text and "<h1>" in tv.text
        parts = await browser.get("/wallboard/board?seq=0&tv=1")
        assert parts.text.lstrip().startswith('<div id="board"') and queue["name"] in parts.text
        assert "Content-Security-Policy" in parts.headers
        browser.cookies.set("infolinia_lang", "pl", domain="infolinia.test")
        polish = await browser.get("/wallboard")
        assert "Kolejki" in polish.text and "Tryb wielkiego ekranu" in polish.text
    async with ui_client(http_app, "admin@acme.test") as other:
        page = await other.get("/wallboard")
        assert page.status_code == 200 and queue["name"] not in page.text
    async with ui_client(http_app, "agent1@demo.test") as barred:
        assert (await barred.get("/wallboard")).status_code == 403
        assert (await barred.get("/wallboard/board")).status_code == 403
    async with ui_client(http_app) as nobody:
        r = await nobody.get("/wallboard?tv=1")
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
