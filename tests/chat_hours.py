"""A chat topic that is closed now, for tests against a real server: a queue that keeps the tenant's business hours,
the topic ``office`` waiting in it, and yesterday, today and tomorrow made the tenant's holidays (so it is closed
whatever the hour and time zone); all put back afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx

#: the topic that is closed
TOPIC = "office"


@asynccontextmanager
async def closed_topic(http: httpx.AsyncClient, admin: dict[str, str]) -> AsyncIterator[int]:
    """The demo tenant's topic ``office`` is closed (its queue's id) while this runs."""
    me = (await http.get("/api/v1/auth/me", headers=admin)).json()
    tenant_url = f"/api/v1/tenants/{me['tenant_id']}"
    hours = (await http.get(tenant_url, headers=admin)).json()["business_hours"]
    today = datetime.now(UTC).date()
    holidays = {*hours.get("holidays", []), *(str(today + timedelta(days=d)) for d in (-1, 0, 1))}
    settings = (await http.get("/api/v1/chat/settings", headers=admin)).json()
    r = await http.post("/api/v1/queues", json={"name": "Chat office hours", "business_hours": True}, headers=admin)
    assert r.status_code == 201, r.text
    queue = int(r.json()["id"])
    try:
        r = await http.patch("/api/v1/chat/settings", json={"topics": settings["topics"] | {TOPIC: queue}},
                             headers=admin)  # fmt: skip
        assert r.status_code == 200, r.text
        r = await http.patch(tenant_url, json={"business_hours": hours | {"holidays": sorted(holidays)}},
                             headers=admin)  # fmt: skip
        assert r.status_code == 200, r.text
        yield queue
    finally:
        await http.patch(tenant_url, json={"business_hours": hours}, headers=admin)
        await http.patch("/api/v1/chat/settings", json={"topics": settings["topics"]}, headers=admin)
