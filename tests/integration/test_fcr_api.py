"""First-contact resolution through the API: one contact of every kind in a queue of its own, counted by the
database as the pure derivation (``wrapup/fcr.py``) judges the same rows; the tenant's repeat window; the contact
list; roles and tenant isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.store.models import CaseEntry, CaseLink, Direction, Interaction, WrapupCode
from infolinia.store.types import utcnow
from infolinia.wrapup.fcr import CaseEvent, Contact, derive
from tests.conftest import Login
from tests.tenant_api import TenantApi, acme_admin, demo_admin

__all__ = ["acme_admin", "demo_admin"]

T0 = datetime(2025, 2, 3, 10, 0, tzinfo=UTC)  # long ago: every repeat window has ended
PERIOD = {"from": "2025-02-01T00:00:00Z", "to": "2025-02-10T00:00:00Z"}
CODES = [("fixed", "resolved"), ("not-fixed", "not_resolved"), ("visit", "follow_up"), ("wrong", "wrong_number")]


def _at(when: datetime, minutes: float = 0) -> dict[str, str]:
    start = when + timedelta(minutes=minutes)
    return {"created_at": start.isoformat(), "answered_at": (start + timedelta(seconds=30)).isoformat(),
            "ended_at": (start + timedelta(minutes=5)).isoformat()}  # fmt: skip


class Scenario:
    """A queue of its own, customers of its own, and their contacts; ``kinds`` names each contact by what it is."""

    def __init__(self, admin: TenantApi) -> None:
        self.admin = admin
        self.kinds: dict[str, int] = {}
        self.queue = 0

    async def customer(self) -> int:
        made = await self.admin.call("POST", "/customers", {"name": f"FCR {uuid.uuid4().hex[:6]}"}, 201)
        return int(made["id"])

    async def contact(self, kind: str | None, customer: int | None, code: str | None, when: datetime = T0,
                      minutes: float = 0, **more: Any) -> int:  # fmt: skip
        body = {"channel": "voice", "direction": "in", "queue_id": self.queue, "customer_id": customer,
                "disposition_code": code} | _at(when, minutes) | more  # fmt: skip
        made = await self.admin.call("POST", "/interactions", body, 201)
        if kind:
            self.kinds[kind] = made["id"]
        return int(made["id"])

    async def build(self) -> None:
        queue = await self.admin.call("POST", "/queues", {"name": f"FCR {uuid.uuid4().hex[:8]}"}, 201)
        self.queue = queue["id"]
        for code, outcome in CODES:
            body = {"code": code, "label": code, "outcome": outcome}
            await self.admin.call("POST", f"/queues/{self.queue}/wrapup/codes", body, 201)
        await self.contact("resolved", await self.customer(), "fixed")
        repeated = await self.customer()
        await self.contact("repeat", repeated, "fixed")
        await self.contact(None, repeated, None, minutes=3 * 24 * 60, queue_id=None, channel="chat")  # not handled
        late = await self.customer()
        await self.contact("after_window", late, "fixed")
        await self.contact(None, late, None, minutes=8 * 24 * 60, queue_id=None, channel="email")
        reopened, escalated = await self.customer(), await self.customer()
        await self.contact("reopened", reopened, "fixed")
        await self.contact("escalated", escalated, "fixed")
        steps = (("reopened", "status", {"status": "resolved"}), ("reopened", "reopen", {"reason": "x"}),
                 ("escalated", "escalate", {"reason": "x"}))  # fmt: skip
        for kind, path, body in steps:
            case = await self._case(self.kinds[kind])
            await self.admin.call("POST", f"/cases/{case}/{path}", body)
        await self.contact("not_resolved", await self.customer(), "not-fixed")
        await self.contact("follow_up", await self.customer(), "visit")
        await self.contact("no_code", await self.customer(), None)
        await self.contact("no_customer", None, "fixed")
        await self.contact("no_customer_not_resolved", None, "visit")
        await self.contact("wrong_number", await self.customer(), "wrong")
        other_channel = await self.customer()
        await self.contact("repeat_other_channel", other_channel, "fixed", channel="email")
        await self.contact(None, other_channel, None, minutes=60, channel="form")  # in this queue: handled too
        # not handled: not answered, outbound
        await self.contact("unanswered", await self.customer(), "fixed", answered_at=None, ended_at=None)
        await self.contact("outbound", await self.customer(), "fixed", direction="out")

    async def _case(self, interaction: int) -> int:
        known = await self.admin.call("GET", f"/interactions/{interaction}")
        existing = [c for c in (await self.admin.call("GET", f"/cases?customer_id={known['customer_id']}"))["items"]]
        if existing:
            return int(existing[0]["id"])
        body = {"subject": "FCR", "category": "question", "interaction_id": interaction}
        return int((await self.admin.call("POST", "/cases", body, 201))["id"])


@pytest.fixture(scope="module")
async def scenario(client: httpx.AsyncClient, login: Login) -> Scenario:
    made = Scenario(TenantApi(client, await login("admin@demo.test")))
    await made.build()
    return made


async def report(api: TenantApi, **params: Any) -> dict[str, Any]:
    query = "&".join(f"{key}={value}" for key, value in ({**PERIOD} | params).items())
    answer: dict[str, Any] = await api.call("GET", f"/first-contact-resolution?{query}")
    return answer


async def verdicts(api: TenantApi, **params: Any) -> dict[int, dict[str, Any]]:
    """Every contact the list gives, page by page."""
    seen: dict[int, dict[str, Any]] = {}
    after = 0
    while True:
        query = "&".join(f"{k}={v}" for k, v in ({**PERIOD, "limit": 3, "after": after} | params).items())
        page = await api.call("GET", f"/first-contact-resolution/contacts?{query}")
        seen |= {item["interaction_id"]: item for item in page["items"]}
        if page["next_cursor"] is None:
            return seen
        after = page["next_cursor"]


async def test_every_kind_of_contact_is_counted_as_defined(scenario: Scenario, demo_admin: TenantApi) -> None:
    figures = await report(demo_admin, queue_id=scenario.queue)
    assert figures["handled"] == 13
    assert figures["resolved_first_contact"] == 2  # resolved, after_window
    assert figures["repeat_contact"] == 2  # repeat, repeat_other_channel
    assert figures["reopened_or_escalated"] == 2
    assert figures["not_resolved"] == 4 and figures["unclassified"] == 2  # no code; the form contact with none
    assert figures["pending"] == 0
    assert (figures["unknown_customer"], figures["unknown_customer_resolved"]) == (2, 1)
    assert figures["excluded"] == 1
    assert figures["rate"] == round(2 / 10, 4)
    assert (figures["window_days"], figures["queue_id"], figures["from"]) == (7, scenario.queue, "2025-02-01T00:00:00Z")
    listed = await verdicts(demo_admin, queue_id=scenario.queue)
    expected = {
        "resolved": "resolved_first_contact", "after_window": "resolved_first_contact", "repeat": "repeat_contact",
        "repeat_other_channel": "repeat_contact", "reopened": "reopened_or_escalated",
        "escalated": "reopened_or_escalated", "not_resolved": "not_resolved", "follow_up": "not_resolved",
        "no_code": "not_resolved", "no_customer": "unknown_customer", "no_customer_not_resolved": "unknown_customer",
        "wrong_number": "excluded",
    }  # fmt: skip
    assert {kind: listed[scenario.kinds[kind]]["verdict"] for kind in expected} == expected
    assert scenario.kinds["unanswered"] not in listed and scenario.kinds["outbound"] not in listed
    assert listed[scenario.kinds["repeat"]]["repeat_interaction_id"] is not None
    assert listed[scenario.kinds["follow_up"]]["outcome"] == "follow_up"
    only = await verdicts(demo_admin, queue_id=scenario.queue, verdict="repeat_contact")
    assert set(only) == {scenario.kinds["repeat"], scenario.kinds["repeat_other_channel"]}


async def test_the_database_agrees_with_the_pure_derivation(scenario: Scenario, center: Infolinia) -> None:
    """Each listed verdict is the one ``fcr.derive`` gives from the same rows, read one by one."""
    listed = await verdicts(TenantApi(scenario.admin.client, scenario.admin.headers), queue_id=scenario.queue)
    now = utcnow()
    async with center.db.session() as s:
        for ident, item in listed.items():
            row = await s.get(Interaction, ident)
            assert row is not None
            outcome = await s.scalar(
                select(WrapupCode.outcome).where(WrapupCode.queue_id == row.queue_id,
                                                 WrapupCode.code == row.disposition_code)
            )  # fmt: skip
            others = await s.scalars(select(Interaction).where(Interaction.tenant_id == row.tenant_id,
                                                               Interaction.customer_id == row.customer_id))  # fmt: skip
            events = await s.execute(
                select(CaseEntry.kind, CaseEntry.created_at).join(CaseLink, CaseLink.case_id == CaseEntry.case_id)
                .where(CaseLink.interaction_id == ident)
            )  # fmt: skip
            contacts = [Contact(o.id, o.customer_id, o.direction is Direction.INBOUND, o.created_at) for o in others]
            me = Contact(row.id, row.customer_id, True, row.created_at)
            judged = derive(me, outcome, contacts if row.customer_id else [],
                            [CaseEvent(kind, at) for kind, at in events], now, timedelta(days=7))  # fmt: skip
            assert item["verdict"] == judged.value, (ident, item)


async def test_the_repeat_window_is_the_tenants(scenario: Scenario, demo_admin: TenantApi) -> None:
    tenant = (await demo_admin.call("GET", "/tenants"))[0]["id"]
    for days in (0, 91, "seven"):
        await demo_admin.refused("PATCH", f"/tenants/{tenant}", {"fcr_window_days": days}, 422, "validation_error")
    await demo_admin.call("PATCH", f"/tenants/{tenant}", {"fcr_window_days": 9})
    try:
        figures = await report(demo_admin, queue_id=scenario.queue)
        assert figures["window_days"] == 9
        assert (figures["resolved_first_contact"], figures["repeat_contact"]) == (1, 3)  # 8 days later: a repeat now
    finally:
        await demo_admin.call("PATCH", f"/tenants/{tenant}", {"fcr_window_days": 7})
    assert (await demo_admin.call("GET", f"/tenants/{tenant}"))["fcr_window_days"] == 7


async def test_recent_contacts_are_pending_until_their_window_ends(scenario: Scenario, demo_admin: TenantApi) -> None:
    now = utcnow()
    fresh = await scenario.customer()
    ident = await scenario.contact(None, fresh, "fixed", when=now - timedelta(days=2))
    recent = {"from": (now - timedelta(days=3)).isoformat().replace("+00:00", "Z"),
              "to": (now + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")}  # fmt: skip
    figures = await report(demo_admin, queue_id=scenario.queue, **recent)
    assert (figures["handled"], figures["pending"], figures["rate"]) == (1, 1, None)
    listed = await verdicts(demo_admin, queue_id=scenario.queue, **recent)
    assert listed[ident]["verdict"] == "pending"
    await scenario.contact(None, fresh, None, when=now - timedelta(days=1), queue_id=None)  # the customer came back
    figures = await report(demo_admin, queue_id=scenario.queue, **recent)
    assert (figures["pending"], figures["repeat_contact"], figures["rate"]) == (0, 1, 0.0)


async def test_filters_and_bad_periods(scenario: Scenario, demo_admin: TenantApi) -> None:
    by_channel = await report(demo_admin, queue_id=scenario.queue, channel="email")
    assert (by_channel["handled"], by_channel["repeat_contact"]) == (1, 1)
    await demo_admin.refused("GET", f"/first-contact-resolution?from={PERIOD['to']}&to={PERIOD['from']}", None, 422,
                             "validation_error")  # fmt: skip
    await demo_admin.refused("GET", "/first-contact-resolution?from=2024-01-01T00:00:00Z&to=2025-06-01T00:00:00Z",
                             None, 422, "validation_error")  # fmt: skip
    await demo_admin.refused("GET", "/first-contact-resolution?from=yesterday", None, 422, "validation_error")
    for far in ("from=9999-12-31T00:00:00", "to=0001-01-01T00:00:00Z"):
        await demo_admin.refused("GET", f"/first-contact-resolution/contacts?{far}", None, 422, "validation_error")
    await demo_admin.refused("GET", "/first-contact-resolution?channel=fax", None, 422, "validation_error")
    await demo_admin.refused("GET", "/first-contact-resolution/contacts?verdict=maybe", None, 422,
                             "validation_error")  # fmt: skip


async def test_roles_and_agents_own_figures(
    scenario: Scenario, client: httpx.AsyncClient, login: Login, demo_admin: TenantApi
) -> None:
    agents = {a["email"]: a["id"] for a in (await demo_admin.call("GET", "/users?limit=200"))["items"]}
    mine, theirs = agents["agent3@demo.test"], agents["agent4@demo.test"]
    await scenario.contact("agent3", await scenario.customer(), "fixed", agent_id=mine)
    await scenario.contact("agent4", await scenario.customer(), "not-fixed", agent_id=theirs)
    agent = TenantApi(client, await login("agent3@demo.test"))
    own = await report(agent, queue_id=scenario.queue)
    assert (own["agent_id"], own["handled"], own["resolved_first_contact"]) == (mine, 1, 1)
    assert set(await verdicts(agent, queue_id=scenario.queue)) == {scenario.kinds["agent3"]}
    await agent.refused("GET", f"/first-contact-resolution?agent_id={theirs}", None, 403, "forbidden")
    supervisor = TenantApi(client, await login("supervisor@demo.test"))
    assert (await report(supervisor, queue_id=scenario.queue, agent_id=theirs))["not_resolved"] == 1
    back_office = TenantApi(client, await login("backoffice@demo.test"))
    await back_office.refused("GET", "/first-contact-resolution", None, 403, "forbidden")
    await back_office.refused("GET", "/first-contact-resolution/contacts", None, 403, "forbidden")


async def test_another_tenant_sees_none_of_it(scenario: Scenario, acme_admin: TenantApi) -> None:
    error = await acme_admin.refused("GET", f"/first-contact-resolution?queue_id={scenario.queue}", None, 422,
                                     "unknown_reference")  # fmt: skip
    assert error["details"] == {"field": "queue_id"}
    assert (await report(acme_admin))["handled"] == 0
    assert await verdicts(acme_admin) == {}


async def test_the_demo_shows_a_plausible_rate(demo_admin: TenantApi) -> None:
    figures = await demo_admin.call("GET", "/first-contact-resolution")
    assert figures["handled"] > 10
    assert figures["rate"] is not None and 0.3 < figures["rate"] < 0.95
    assert figures["not_resolved"] > 0 and figures["resolved_first_contact"] > 0
