"""Planning through the API: staffing of one interval and of a day, the forecast from the tenant's own contacts,
validation of absurd input, roles and tenant isolation."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.store.models import Channel, Direction, Interaction, Tenant
from infolinia.store.uow import SYSTEM, write
from infolinia.wfm.erlang import erlang_a, erlang_c
from tests.conftest import Login
from tests.tenant_api import TenantApi, acme_admin, demo_admin

__all__ = ["acme_admin", "demo_admin"]

ONE = {"calls": 100, "interval_minutes": 15, "aht_s": 180, "target_sl": 0.8, "target_seconds": 20}


@pytest.fixture
async def supervisor(client: httpx.AsyncClient, login: Login) -> TenantApi:
    return TenantApi(client, await login("supervisor@demo.test"))


@pytest.fixture
async def agent(client: httpx.AsyncClient, login: Login) -> TenantApi:
    return TenantApi(client, await login("agent1@demo.test"))


async def test_staffing_one_interval(supervisor: TenantApi) -> None:
    got = await supervisor.call("POST", "/wfm/staffing", ONE | {"shrinkage": 0.3, "max_occupancy": 0.85})
    (row,) = got["intervals"]
    assert got["model"] == "erlang_c"
    # 100 calls x 180 s / 900 s = 20 Erlangs: 24 on the phones meet SL 80/20 and occupancy 85%, 23 do not
    assert row["on_phones"] == 24 and row["agents"] == math.ceil(24 / 0.7)
    assert row["service_level"] == pytest.approx(erlang_c(24, 20.0, 180, 20).service_level)
    assert erlang_c(23, 20.0, 180, 20).occupancy > 0.85 or erlang_c(23, 20.0, 180, 20).service_level < 0.8
    patient = await supervisor.call("POST", "/wfm/staffing", ONE | {"patience_s": 120})
    (arow,) = patient["intervals"]
    assert patient["model"] == "erlang_a"
    assert arow["p_abandon"] == pytest.approx(erlang_a(arow["on_phones"], 20.0, 180, 120, 20).p_abandon)
    assert erlang_a(arow["on_phones"] - 1, 20.0, 180, 120, 20).service_level < 0.8 <= arow["service_level"]


async def test_staffing_a_day(supervisor: TenantApi) -> None:
    intervals: list[dict[str, Any]] = [{"start": f"{i // 4:02d}:{i % 4 * 15:02d}", "calls": 3.0 * i} for i in range(96)]
    intervals[5]["aht_s"] = 600
    got = await supervisor.call("POST", "/wfm/staffing", {"intervals": intervals, "aht_s": 200, "shrinkage": 0.25})
    rows = got["intervals"]
    assert len(rows) == 96 and rows[0] == rows[0] | {"start": "00:00", "calls": 0.0, "agents": 0}
    ons = [r["on_phones"] for r in rows]
    assert all(r["service_level"] >= 0.8 for r in rows)
    assert ons[5] > ons[6]  # its own longer handle time
    assert ons[10:] == sorted(ons[10:])  # more calls, never fewer agents
    assert got["agent_hours"] == pytest.approx(sum(r["agents"] for r in rows) / 4)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"calls": -1}, "calls"),
        ({"calls": 1e12}, "calls"),
        ({"aht_s": 0}, "aht_s"),
        ({"aht_s": 0.5}, "aht_s"),
        ({"target_sl": 1.0}, "target_sl"),
        ({"shrinkage": 1.0}, "shrinkage"),
        ({"patience_s": -5}, "patience_s"),
        ({"interval_minutes": 0}, "interval_minutes"),
        ({"max_occupancy": 0}, "max_occupancy"),
        ({"calls": None}, None),
        ({"intervals": [{"calls": 1}]}, None),
        ({"calls": None, "intervals": []}, "intervals"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_staffing_refuses_bad_input(supervisor: TenantApi, change: dict[str, Any], field: str | None) -> None:
    error = await supervisor.refused("POST", "/wfm/staffing", ONE | change, 422, "validation_error")
    if field is not None:
        assert field in str(error)


async def test_staffing_refuses_nan(supervisor: TenantApi, client: httpx.AsyncClient) -> None:
    body = '{"calls": NaN, "aht_s": 180}'
    headers = supervisor.headers | {"content-type": "application/json"}
    r = await client.post("/api/v1/wfm/staffing", content=body, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


async def test_unreachable_target(supervisor: TenantApi) -> None:
    # 10 million day-long calls a minute: a load of 1.44e10 Erlangs, beyond any center
    huge = ONE | {"calls": 1e7, "interval_minutes": 1, "aht_s": 86_400}
    await supervisor.refused("POST", "/wfm/staffing", huge, 422, "unreachable_target")
    # Erlang A sums over queue lengths up to the arrivals within one patience: 40 million is refused, quickly
    crowd = ONE | {"calls": 1e7, "patience_s": 3600}
    await supervisor.refused("POST", "/wfm/staffing", crowd, 422, "too_large")


async def test_agents_may_not_plan(agent: TenantApi) -> None:
    await agent.refused("POST", "/wfm/staffing", ONE, 403, "forbidden")
    await agent.refused("GET", "/wfm/forecast", None, 403, "forbidden")


async def _history(center: Infolinia, slug: str, queue_id: int, weeks: int) -> int:
    """Inbound calls on the queue: weekdays only, 10 per quarter hour 09:00-12:00 local time (Mondays 20)."""
    made = 0
    async with write(center.db, None, SYSTEM) as tx:
        tenant = await tx.session.scalar(select(Tenant).where(Tenant.slug == slug))
        assert tenant is not None
        zone = ZoneInfo(tenant.timezone)
        today = datetime.now(UTC).astimezone(zone).date()
        for back in range(1, 7 * weeks + 1):
            day = today - timedelta(days=back)
            if day.weekday() >= 5:
                continue
            for quarter in range(12):
                start = datetime.combine(day, time(9), zone) + timedelta(minutes=15 * quarter)
                for k in range(20 if day.weekday() == 0 else 10):
                    at = (start + timedelta(seconds=30 + 40 * k)).astimezone(UTC)
                    tx.session.add(Interaction(tenant_id=tenant.id, channel=Channel.VOICE, direction=Direction.INBOUND,
                                               queue_id=queue_id, created_at=at))  # fmt: skip
                    made += 1
    return made


async def test_forecast_from_the_tenants_history(
    center: Infolinia, demo_admin: TenantApi, supervisor: TenantApi, acme_admin: TenantApi
) -> None:
    queue = await demo_admin.call("POST", "/queues", {"name": f"Forecast {uuid.uuid4().hex[:8]}"}, 201)
    made = await _history(center, "demo", queue["id"], weeks=5)
    got = await supervisor.call("GET", f"/wfm/forecast?queue_id={queue['id']}&days=7&history_days=56&holdout_days=7")
    assert got["history"]["contacts"] == made
    assert len(got["intervals"]) == 7 * 96
    acc = got["accuracy"]
    # a steady pattern is forecast almost exactly (the hold-out's week looks like the weeks before it)
    assert acc["days"] >= 5 and acc["wape"] < 0.05 and acc["mape"] < 0.05
    by_start = {datetime.fromisoformat(r["start"]): r["calls"] for r in got["intervals"]}
    for at, calls in by_start.items():
        if at.weekday() >= 5 or not time(9) <= at.time() < time(12):
            assert calls == pytest.approx(0, abs=1e-9), at
        elif at.weekday() == 0:
            assert calls == pytest.approx(20, rel=0.1), at
        else:
            assert calls == pytest.approx(10, rel=0.1), at
    # the same queue seen from another tenant does not exist; acme's own forecast does not see demo's contacts
    await acme_admin.refused("GET", f"/wfm/forecast?queue_id={queue['id']}", None, 404, "not_found")
    acme = await acme_admin.call("GET", "/wfm/forecast?channel=voice&days=1")
    assert acme["history"]["contacts"] < made


@pytest.mark.parametrize(
    "query", ["days=0", "days=1000", "interval_minutes=7", "history_days=3", "holdout_days=40", "channel=fax"]
)
async def test_forecast_refuses_bad_input(supervisor: TenantApi, query: str) -> None:
    await supervisor.refused("GET", f"/wfm/forecast?{query}", None, 422, "validation_error")
