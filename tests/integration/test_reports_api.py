"""Reports through the API, with exact figures from a constructed history: contacts made through the interactions
API at known times in a queue of their own, around the day the clocks go forward in the demo tenant's time zone
(Europe/Warsaw, 27 March 2011); intervals, groups, exports (CSV and XLSX read back, SVG parsed as XML, the monthly
PDF's text extracted); parameter validation; roles and tenant isolation."""

from __future__ import annotations

import csv
import io
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.auth.actions import create_user
from infolinia.schemas import UserIn
from infolinia.store.models import (
    AgentPresenceChange,
    AgentProfile,
    Callback,
    CampaignAttempt,
    Interaction,
    Role,
    User,
)
from infolinia.store.uow import SYSTEM, write
from tests.conftest import Login
from tests.tenant_api import API, TenantApi, acme_admin, demo_admin

__all__ = ["acme_admin", "demo_admin"]

# the days around the change to summer time (02:00 -> 03:00 local on Sunday 27 March 2011)
PERIOD = {"from": "2011-03-26", "to": "2011-03-29"}  # local midnights: 26, 27, 28 March
U = UTC


def _t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2011, 3, day, hour, minute, tzinfo=U)


class History:
    """Seven contacts in a queue of its own (service level within 20 s, short abandons under 5 s)."""

    def __init__(self, admin: TenantApi) -> None:
        self.admin = admin
        self.queue = 0
        self.agents: dict[str, int] = {}

    async def contact(self, created: datetime, *, answer_s: float | None = None, talk_s: float = 0,
                      abandon_s: float | None = None, hold_s: float | None = None, wrap_s: float | None = None,
                      agent: str | None = None, channel: str = "voice") -> None:  # fmt: skip
        body: dict[str, Any] = {"channel": channel, "direction": "in", "queue_id": self.queue,
                                "created_at": created.isoformat(), "queued_at": created.isoformat()}  # fmt: skip
        if answer_s is not None:
            answered = created + timedelta(seconds=answer_s)
            ended = answered + timedelta(seconds=talk_s)
            body |= {"answered_at": answered.isoformat(), "ended_at": ended.isoformat()}
            if wrap_s is not None:
                body["wrapup_ended_at"] = (ended + timedelta(seconds=wrap_s)).isoformat()
        if abandon_s is not None:
            body["ended_at"] = (created + timedelta(seconds=abandon_s)).isoformat()
        if hold_s is not None:
            body["hold_s"] = hold_s
        if agent is not None:
            body["agent_id"] = self.agents[agent]
        await self.admin.call("POST", "/interactions", body, 201)

    async def build(self, center: Infolinia) -> None:
        name = f"Reports {uuid.uuid4().hex[:8]}"
        queue = await self.admin.call("POST", "/queues", {"name": name, "sl_seconds": 20, "short_abandon_s": 5}, 201)
        self.queue = queue["id"]
        async with center.db.session() as s:
            for email in ("agent1@demo.test", "agent2@demo.test"):
                self.agents[email] = int(await s.scalar(select(User.id).where(User.email == email)) or 0)
        a1, a2 = self.agents
        # Saturday 26 March (UTC+1): 10:00-11:00 local holds three contacts, 11:00-12:00 one
        await self.contact(_t(26, 9, 0), answer_s=10, talk_s=300, hold_s=20, wrap_s=30, agent=a1)
        await self.contact(_t(26, 9, 20), answer_s=30, talk_s=120, agent=a2, channel="chat")
        await self.contact(_t(26, 9, 40), abandon_s=3)  # a short abandon
        await self.contact(_t(26, 10, 5), abandon_s=60)
        # Sunday 27 March, 23 hours long: 00:30 local is still UTC+1 (23:30 UTC the day before)
        await self.contact(_t(26, 23, 30), answer_s=20, talk_s=60, agent=a1)  # answered at the threshold
        # Monday 28 March, 00:30 local is UTC+2 (22:30 UTC the day before)
        await self.contact(_t(27, 22, 30), answer_s=5, talk_s=100, agent=a2)
        # the day after the period: not in it
        await self.contact(_t(28, 22, 30), answer_s=5, talk_s=100, agent=a2)
        # staffed: agent 1 ready 08:30-09:30 and 09:45-10:00 UTC (a break between), agent 2 09:00-11:00 UTC
        async with center.db.session() as s:
            demo = int(await s.scalar(select(User.tenant_id).where(User.id == self.agents[a1])) or 0)
            for agent, presence, at in ((a1, "ready", _t(26, 8, 30)), (a1, "break", _t(26, 9, 30)),
                                        (a1, "ready", _t(26, 9, 45)), (a1, "offline", _t(26, 10)),
                                        (a2, "ready", _t(26, 9)), (a2, "offline", _t(26, 11))):  # fmt: skip
                s.add(AgentPresenceChange(tenant_id=demo, agent_id=self.agents[agent], presence=presence, at=at))
            await s.commit()


@pytest.fixture(scope="module")
async def history(client: httpx.AsyncClient, login: Login, center: Infolinia) -> History:
    made = History(TenantApi(client, await login("admin@demo.test")))
    await made.build(center)
    return made


def _query(params: dict[str, Any]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())


async def report(api: TenantApi, history: History, **params: Any) -> dict[str, Any]:
    query = _query(PERIOD | {"queue_id": history.queue} | params)
    answer: dict[str, Any] = await api.call("GET", f"/reports/contacts?{query}")
    return answer


SATURDAY = {"offered": 4, "answered": 2, "abandoned": 1, "short_abandoned": 1, "answered_in_sl": 1,
            "service_level": 0.3333, "abandon_rate": 0.3333, "asa_s": 20.0, "handled": 2, "aht_s": 225.0,
            "avg_talk_s": 200.0, "avg_hold_s": 10.0, "avg_wrap_s": 15.0}  # fmt: skip
SUNDAY = {"offered": 1, "answered": 1, "abandoned": 0, "short_abandoned": 0, "answered_in_sl": 1,
          "service_level": 1.0, "abandon_rate": 0.0, "asa_s": 20.0, "handled": 1, "aht_s": 60.0,
          "avg_talk_s": 60.0, "avg_hold_s": 0.0, "avg_wrap_s": 0.0}  # fmt: skip
MONDAY = SUNDAY | {"asa_s": 5.0, "aht_s": 100.0, "avg_talk_s": 100.0}


def _kpis(row: dict[str, Any], like: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in like}


async def test_days_follow_the_tenants_clock_across_the_change_to_summer_time(
    history: History, demo_admin: TenantApi
) -> None:
    answer = await report(demo_admin, history, interval="day")
    rows = answer["rows"]
    assert [(r["interval_start"], r["interval_end"]) for r in rows] == [
        ("2011-03-26T00:00:00+01:00", "2011-03-27T00:00:00+01:00"),
        ("2011-03-27T00:00:00+01:00", "2011-03-28T00:00:00+02:00"),  # 23 hours
        ("2011-03-28T00:00:00+02:00", "2011-03-29T00:00:00+02:00"),
    ]
    assert [_kpis(r, SATURDAY) for r in rows] == [SATURDAY, SUNDAY, MONDAY]
    assert answer["totals"] == [{"offered": 6, "answered": 4, "abandoned": 1, "short_abandoned": 1,
                                 "answered_in_sl": 3, "service_level": 0.6, "abandon_rate": 0.2, "asa_s": 16.2,
                                 "handled": 4, "aht_s": 152.5, "avg_talk_s": 140.0, "avg_hold_s": 5.0,
                                 "avg_wrap_s": 7.5, "transfers": 0, "transfer_rate": 0.0, "staffed_s": 0.0,
                                 "occupancy": None}]  # fmt: skip
    assert answer["timezone"] == "Europe/Warsaw" and answer["from"] == "2011-03-25T23:00:00Z"


async def test_hours_weeks_and_months(history: History, demo_admin: TenantApi) -> None:
    hours = (await report(demo_admin, history, interval="60min"))["rows"]
    assert len(hours) == 24 + 23 + 24
    busy = {r["interval_start"]: r["offered"] for r in hours if r["offered"]}
    assert busy == {"2011-03-26T10:00:00+01:00": 3, "2011-03-26T11:00:00+01:00": 1,
                    "2011-03-27T00:00:00+01:00": 1, "2011-03-28T00:00:00+02:00": 1}  # fmt: skip
    assert "2011-03-27T02:00:00+01:00" not in {r["interval_start"] for r in hours}  # that hour does not exist
    quarters = (await report(demo_admin, history, interval="15min"))["rows"]
    assert len(quarters) == 4 * (24 + 23 + 24)
    assert {r["interval_start"]: r["offered"] for r in quarters if r["offered"]} == {
        "2011-03-26T10:00:00+01:00": 1, "2011-03-26T10:15:00+01:00": 1, "2011-03-26T10:30:00+01:00": 1,
        "2011-03-26T11:00:00+01:00": 1, "2011-03-27T00:30:00+01:00": 1, "2011-03-28T00:30:00+02:00": 1}  # fmt: skip
    weeks = (await report(demo_admin, history, interval="week"))["rows"]
    assert [(r["interval_start"], r["offered"]) for r in weeks] == [
        ("2011-03-21T00:00:00+01:00", 5), ("2011-03-28T00:00:00+02:00", 1)]  # fmt: skip
    months = (await report(demo_admin, history, interval="month"))["rows"]
    assert [(r["interval_start"], r["interval_end"], r["offered"]) for r in months] == [
        ("2011-03-01T00:00:00+01:00", "2011-04-01T00:00:00+02:00", 6)]  # fmt: skip


async def test_by_agent_and_by_channel(history: History, demo_admin: TenantApi) -> None:
    a1, a2 = (history.agents[e] for e in ("agent1@demo.test", "agent2@demo.test"))
    by_agent = await report(demo_admin, history, interval="month", group_by="agent")
    totals = {t["group"]: t for t in by_agent["totals"]}
    assert set(totals) == {None, a1, a2}
    assert (totals[None]["offered"], totals[None]["answered"], totals[None]["group_name"]) == (2, 0, "(no agent)")
    assert (totals[a1]["answered"], totals[a1]["aht_s"], totals[a1]["group_name"]) == (2, 195.0, "Agata Nowak")
    assert (totals[a2]["answered"], totals[a2]["asa_s"]) == (2, 17.5)
    by_channel = await report(demo_admin, history, interval="day", group_by="channel")
    cells = {(r["interval_start"][:10], r["group"]): r["offered"] for r in by_channel["rows"]}
    assert cells == {("2011-03-26", "voice"): 3, ("2011-03-26", "chat"): 1, ("2011-03-27", "voice"): 1,
                     ("2011-03-28", "voice"): 1}  # fmt: skip
    only_agent = await report(demo_admin, history, interval="month", agent_id=a2, channel="chat")
    assert only_agent["totals"][0]["offered"] == 1


async def test_occupancy_is_handle_time_over_staffed_time(history: History, demo_admin: TenantApi) -> None:
    whole = await demo_admin.call("GET", f"/reports/contacts?{_query(PERIOD | {'interval': 'day'})}")
    assert [(r["staffed_s"], r["occupancy"]) for r in whole["rows"]] == [(11700.0, 0.0385), (0.0, None), (0.0, None)]
    hours = await demo_admin.call("GET", f"/reports/contacts?{_query(PERIOD | {'interval': '60min'})}")
    staffed = {r["interval_start"]: r["staffed_s"] for r in hours["rows"] if r["staffed_s"]}
    assert staffed == {"2011-03-26T09:00:00+01:00": 1800.0, "2011-03-26T10:00:00+01:00": 6300.0,
                       "2011-03-26T11:00:00+01:00": 3600.0}  # fmt: skip
    by_agent = await demo_admin.call(
        "GET", f"/reports/contacts?{_query(PERIOD | {'interval': 'month', 'group_by': 'agent'})}"
    )
    totals = {t["group"]: (t["staffed_s"], t["occupancy"]) for t in by_agent["totals"]}
    a1, a2 = (history.agents[e] for e in ("agent1@demo.test", "agent2@demo.test"))
    assert (totals[a1], totals[a2]) == ((4500.0, 0.0867), (7200.0, 0.0306))
    one_queue = await report(demo_admin, history, interval="month")  # an agent's time is not split by queue
    assert (one_queue["totals"][0]["staffed_s"], one_queue["totals"][0]["occupancy"]) == (0.0, None)


async def test_presence_changes_are_recorded(center: Infolinia, client: httpx.AsyncClient, login: Login) -> None:
    supervisor = await login("supervisor@demo.test")
    async with center.db.session() as s:
        agent = int(await s.scalar(select(User.id).where(User.email == "agent4@demo.test")) or 0)
        profile = await s.get(AgentProfile, agent)
        assert profile is not None
        was = profile.presence
    other = "break" if was != "break" else "offline"
    seen = await _changes(center, agent)
    for presence in (other, was):
        r = await client.put(f"{API}/agents/{agent}/presence", json={"presence": presence}, headers=supervisor)
        assert r.status_code == 200, r.text
    changes = (await _changes(center, agent))[len(seen) :]
    assert [c.presence for c in changes] == [other, was]
    assert changes[0].at <= changes[1].at


async def _changes(center: Infolinia, agent: int) -> list[AgentPresenceChange]:
    async with center.db.session() as s:
        rows = await s.scalars(select(AgentPresenceChange).where(AgentPresenceChange.agent_id == agent)
                               .order_by(AgentPresenceChange.id))  # fmt: skip
        return list(rows)


async def test_aware_bounds_and_the_whole_tenant(history: History, demo_admin: TenantApi) -> None:
    aware = await report(demo_admin, history, interval="day", **{"from": "2011-03-25T23:00:00Z",
                                                                  "to": "2011-03-28T22:00:00%2B00:00"})  # fmt: skip
    assert aware["totals"][0]["offered"] == 6
    whole = await demo_admin.call("GET", f"/reports/contacts?{_query(PERIOD | {'interval': 'day'})}")
    assert whole["totals"][0]["offered"] == 6 and whole["queue_id"] is None


async def test_csv_and_xlsx_hold_the_same_rows(history: History, client: httpx.AsyncClient, login: Login) -> None:
    headers = await login("supervisor@demo.test")
    url = f"{API}/reports/contacts?{_query(PERIOD | {'queue_id': history.queue, 'interval': 'day'})}"
    as_json = (await client.get(url, headers=headers)).json()
    r = await client.get(url.replace("contacts?", "contacts.csv?"), headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.text)))
    assert table[0] == as_json["columns"]
    assert [dict(zip(table[0], line, strict=True)) for line in table[1:]][1]["service_level"] == "1.0"
    assert [line[table[0].index("offered")] for line in table[1:]] == ["4", "1", "1"]
    r = await client.get(url.replace("contacts?", "contacts.xlsx?"), headers=headers)
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content), read_only=True).active
    assert sheet is not None
    width = len(as_json["columns"])
    cells = [[*row, *[None] * (width - len(row))] for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == as_json["columns"]
    assert [[row.get(c) for c in as_json["columns"]] for row in as_json["rows"]] == cells[1:]


async def test_chart_is_an_svg_of_the_kpi(history: History, client: httpx.AsyncClient, login: Login) -> None:
    headers = await login("admin@demo.test")
    query = _query(PERIOD | {"queue_id": history.queue, "interval": "day", "kpi": "service_level"})
    r = await client.get(f"{API}/reports/contacts/chart?{query}", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(r.text)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    points = [c.find(f"{ns}title") for c in root.iter(f"{ns}circle")]
    assert [p.text for p in points if p is not None] == [
        "2011-03-26T00:00:00+01:00: 33.33 %",
        "2011-03-27T00:00:00+01:00: 100 %",
        "2011-03-28T00:00:00+02:00: 100 %",
    ]
    assert "Demo Telecom" in (root.findtext(f"{ns}title") or "")


async def test_monthly_summary_as_a_print_page_and_a_pdf(history: History, client: httpx.AsyncClient,
                                                         login: Login) -> None:  # fmt: skip
    headers = await login("admin@demo.test")
    r = await client.get(f"{API}/reports/monthly?month=2011-03", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "@media print" in r.text and "Demo Telecom: monthly report 2011-03" in r.text
    assert "<td>2011-03-26</td><td>4</td><td>2</td><td>1</td><td>33.3 %</td><td>20.0</td><td>225.0</td>" in r.text
    r = await client.get(f"{API}/reports/monthly.pdf?month=2011-03", headers=headers)
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(r.content)).pages)
    assert "Demo Telecom: monthly report 2011-03" in text
    assert "2011-03-26 4 2 1 33.3 % 20.0 225.0" in text and "Offered 7 Answered 5" in text
    acme = await login("admin@acme.test")
    r = await client.get(f"{API}/reports/monthly.pdf?month=2011-03", headers=acme)
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(r.content)).pages)
    assert "Acme Shop: monthly report 2011-03" in text and "Offered 0 Answered 0" in text
    assert "Demo Telecom" not in text and "Reports " not in text  # nor the demo tenant's queue


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"interval": "fortnight"}, "validation_error"),
        ({"group_by": "team"}, "validation_error"),
        ({"from": "2011-03-29", "to": "2011-03-26"}, "bad_period"),
        ({"from": "2010-01-01", "to": "2011-03-26"}, "bad_period"),
        ({"from": "2010-06-01", "to": "2011-03-26", "interval": "15min"}, "too_many_intervals"),
        ({"queue_id": 999_999}, "unknown_reference"),
        ({"agent_id": 999_999}, "unknown_reference"),
        ({"from": "yesterday"}, "validation_error"),
    ],
)
async def test_bad_parameters_are_422(demo_admin: TenantApi, params: dict[str, Any], code: str) -> None:
    await demo_admin.refused("GET", f"/reports/contacts?{_query(PERIOD | params)}", None, 422, code)


async def test_bad_month_and_kpi(demo_admin: TenantApi) -> None:
    for month in ("2011-3", "2011-13", "march", "0000-01"):
        await demo_admin.refused("GET", f"/reports/monthly?month={month}", None, 422, "validation_error")
    await demo_admin.refused("GET", "/reports/contacts/chart?kpi=offered_rate", None, 422, "validation_error")


async def _platform_admin(center: Infolinia, login: Login) -> dict[str, str]:
    email = "root-reports@platform.test"
    async with write(center.db, None, SYSTEM) as tx:
        if await tx.session.scalar(select(User.id).where(User.email == email)) is None:
            user = UserIn(email=email, display_name="Root", role=Role.PLATFORM_ADMIN, password="demo")
            await create_user(tx, None, user, min_password_length=0)
    return await login(email)


async def test_other_tenants_and_roles(history: History, acme_admin: TenantApi, client: httpx.AsyncClient,
                                       login: Login, center: Infolinia) -> None:  # fmt: skip
    await acme_admin.refused("GET", f"/reports/contacts?queue_id={history.queue}", None, 422, "unknown_reference")
    acme = await acme_admin.call("GET", f"/reports/contacts?{_query(PERIOD | {'interval': 'day'})}")
    assert acme["tenant"] == "acme" and sum(r["offered"] for r in acme["rows"]) == 0
    agent = await login("agent1@demo.test")
    r = await client.get(f"{API}/reports/contacts", headers=agent)
    assert r.status_code == 403 and r.json()["error"]["details"] == {"permission": "reports.read"}
    platform = await _platform_admin(center, login)
    r = await client.get(f"{API}/reports/contacts?{_query(PERIOD | {'queue_id': history.queue})}",
                         headers=platform | {"X-Tenant": "demo"})  # fmt: skip
    assert r.status_code == 200 and r.json()["totals"][0]["offered"] == 6
    r = await client.get(f"{API}/reports/contacts", headers=platform)
    assert r.status_code == 422 and r.json()["error"]["code"] == "tenant_required"


async def test_summary_of_the_period(history: History, demo_admin: TenantApi, center: Infolinia) -> None:
    name = f"Reports {uuid.uuid4().hex[:8]}"
    campaign = await demo_admin.call("POST", "/campaigns", {"name": name, "purpose": "service",
                                                            "queue_id": history.queue}, 201)  # fmt: skip
    at = _t(26, 12)
    async with center.db.session() as s:
        tenant_id = int(await s.scalar(select(User.tenant_id).where(User.email == "admin@demo.test")) or 0)
        for kept in (True, False, None):  # kept, broken, not known yet
            s.add(Callback(tenant_id=tenant_id, queue_id=history.queue, number="+48221234567", source="api",
                           requested_at=at, due_at=at, not_before=at, keep_by=at + timedelta(hours=1),
                           status="completed" if kept is not None else "scheduled", promise_kept=kept))  # fmt: skip
        s.add(
            Callback(
                tenant_id=tenant_id,
                queue_id=history.queue,
                number="+48221234567",
                source="api",
                requested_at=at,
                due_at=_t(29, 12),
                not_before=at,
                keep_by=at,
                promise_kept=True,
            )
        )  # later
        for outcome in ("connected", "abandoned", "no_answer", "abandoned", "connected", "connected"):
            s.add(CampaignAttempt(tenant_id=tenant_id, campaign_id=campaign["id"], number="+48221234567",
                                  started_at=at, outcome=outcome))  # fmt: skip
        await s.commit()
    period = _query(PERIOD | {"queue_id": history.queue})
    answer = await demo_admin.call("GET", f"/reports/summary?{period}")
    assert (answer["contacts"]["offered"], answer["contacts"]["service_level"]) == (6, 0.6)
    assert answer["callbacks"] == {"promised": 3, "decided": 2, "kept": 1, "kept_rate": 0.5}
    assert answer["campaigns"] == {"placed": 6, "answered": 5, "abandoned": 2, "abandon_rate": 0.4, "campaigns": [
        {"campaign_id": campaign["id"], "name": name, "placed": 6, "answered": 5, "abandoned": 2,
         "abandon_rate": 0.4}]}  # fmt: skip
    fcr = await demo_admin.call("GET", f"/first-contact-resolution?from={answer['from']}&to={answer['to']}"
                                       f"&queue_id={history.queue}")  # fmt: skip
    assert answer["first_contact_resolution"]["handled"] == fcr["handled"] == 4
    assert answer["first_contact_resolution"]["rate"] == fcr["rate"]
    assert answer["cases"] is None  # not per queue
    whole = await demo_admin.call("GET", f"/reports/summary?{_query(PERIOD)}")
    compliance = await demo_admin.call("GET", f"/cases/compliance?from={whole['from']}&to={whole['to']}")
    assert whole["cases"] == {k: v for k, v in compliance.items() if k in whole["cases"]}
    assert whole["cases"]["cases"] == compliance["cases"]


async def test_each_tenant_apart(history: History, demo_admin: TenantApi, center: Infolinia, login: Login,
                                 client: httpx.AsyncClient) -> None:  # fmt: skip
    own = await demo_admin.call("GET", f"/reports/tenants?{_query(PERIOD)}")
    assert [(t["tenant"], t["contacts"]["offered"]) for t in own["items"]] == [("demo", 6)]
    platform = await _platform_admin(center, login)
    r = await client.get(f"{API}/reports/tenants?{_query(PERIOD)}", headers=platform)
    assert r.status_code == 200
    every = {t["tenant"]: t for t in r.json()["items"]}
    assert every["demo"]["contacts"]["offered"] == 6 and every["acme"]["contacts"]["offered"] == 0
    assert every["acme"]["from"] == "2011-03-26T00:00:00Z"  # Europe/London: its own midnight
    r = await client.get(f"{API}/reports/tenants?{_query(PERIOD)}", headers=platform | {"X-Tenant": "acme"})
    assert [t["tenant"] for t in r.json()["items"]] == ["acme"]


async def test_waits_are_counted_in_whole_milliseconds_alike_on_every_database(demo_admin: TenantApi) -> None:
    """Queued at .9996 s and answered 20.0008 s later: 20,001 whole milliseconds (the fractions cut off), one over
    the threshold, however the database rounds a timestamp's fraction."""
    queue = await demo_admin.call("POST", "/queues", {"name": f"Reports {uuid.uuid4().hex[:8]}", "sl_seconds": 20}, 201)
    queued = datetime(2011, 3, 20, 10, 0, 0, 999_600, tzinfo=U)
    answered = datetime(2011, 3, 20, 10, 0, 21, 400, tzinfo=U)
    body = {"channel": "voice", "direction": "in", "queue_id": queue["id"], "created_at": queued.isoformat(),
            "queued_at": queued.isoformat(), "answered_at": answered.isoformat(),
            "ended_at": (answered + timedelta(seconds=30)).isoformat()}  # fmt: skip
    await demo_admin.call("POST", "/interactions", body, 201)
    query = _query({"from": "2011-03-20", "to": "2011-03-21", "queue_id": queue["id"], "interval": "day"})
    totals = (await demo_admin.call("GET", f"/reports/contacts?{query}"))["totals"][0]
    assert (totals["answered"], totals["answered_in_sl"], totals["service_level"], totals["asa_s"]) == (1, 0, 0.0, 20.0)


async def test_transfers_are_counted_on_the_contact_handed_on(demo_admin: TenantApi, center: Infolinia) -> None:
    """A transfer is recorded on the interaction the agent handed on (``transferred_at``); its continuation is a new
    interaction (``transferred_from_id``) offered to the queue it entered, where it is no transfer of its own."""
    first = await demo_admin.call("POST", "/queues", {"name": f"Reports {uuid.uuid4().hex[:8]}"}, 201)
    second = await demo_admin.call("POST", "/queues", {"name": f"Reports {uuid.uuid4().hex[:8]}"}, 201)
    async with center.db.session() as s:
        agent = int(await s.scalar(select(User.id).where(User.email == "agent3@demo.test")) or 0)
    made = []
    for n, channel in enumerate(("voice", "voice", "chat")):
        start = _t(14, 9, 10 * n)
        body = {"channel": channel, "direction": "in", "queue_id": first["id"], "agent_id": agent,
                "created_at": start.isoformat(), "answered_at": (start + timedelta(seconds=5)).isoformat(),
                "ended_at": (start + timedelta(seconds=65)).isoformat()}  # fmt: skip
        made.append(await demo_admin.call("POST", "/interactions", body, 201))
    handed_on = _t(14, 9, 1)
    continuation = await demo_admin.call("POST", "/interactions", {
        "channel": "voice", "direction": "in", "queue_id": second["id"], "created_at": handed_on.isoformat(),
        "answered_at": (handed_on + timedelta(seconds=30)).isoformat(),
        "ended_at": (handed_on + timedelta(seconds=90)).isoformat()}, 201)  # fmt: skip
    async with center.db.session() as s:
        for interaction_id in (made[0]["id"], made[2]["id"]):
            row = await s.get(Interaction, interaction_id)
            assert row is not None
            row.transferred_at = handed_on
        row = await s.get(Interaction, continuation["id"])
        assert row is not None
        row.transferred_from_id = made[0]["id"]
        await s.commit()
    day = {"from": "2011-03-14", "to": "2011-03-15", "interval": "day"}
    for queue, expected in ((first, (3, 3, 2, 0.6667)), (second, (1, 1, 0, 0.0))):
        totals = await demo_admin.call("GET", f"/reports/contacts?{_query(day | {'queue_id': queue['id']})}")
        t = totals["totals"][0]
        assert (t["offered"], t["handled"], t["transfers"], t["transfer_rate"]) == expected
    by_channel = await demo_admin.call(
        "GET", f"/reports/contacts?{_query(day | {'group_by': 'channel', 'queue_id': first['id']})}"
    )
    assert {t["group"]: (t["transfers"], t["transfer_rate"]) for t in by_channel["totals"]} == {
        "voice": (1, 0.5), "chat": (1, 1.0)}  # fmt: skip
    by_agent = await demo_admin.call(
        "GET", f"/reports/contacts?{_query(day | {'group_by': 'agent', 'agent_id': agent})}"
    )
    assert [(t["group"], t["transfers"]) for t in by_agent["totals"]] == [(agent, 2)]
    hours = await demo_admin.call(
        "GET", f"/reports/contacts?{_query(day | {'interval': '60min', 'queue_id': first['id']})}"
    )
    assert {r["interval_start"]: r["transfers"] for r in hours["rows"] if r["transfers"]} == {
        "2011-03-14T10:00:00+01:00": 2
    }
    assert "transfers" in hours["columns"] and "transfer_rate" in hours["columns"]
