"""The public callback form: off until the tenant names its queue, a page that loads nothing from elsewhere, a
request as a form or as JSON, bad input shown back escaped, a robot's hidden field ignored, rate limits per
address and per number."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.store.models import Callback
from infolinia.web import forms
from tests.conftest import Login

API = "/api/v1"
FORM = "/forms/demo/callback"
XSS = '<script>alert("x")</script>'
QUEUE = "Web form tests"


@pytest.fixture
async def form_on(client: httpx.AsyncClient, login: Login, center: Infolinia) -> AsyncIterator[None]:
    admin = await login("admin@demo.test")
    tid = (await client.get(f"{API}/tenants", headers=admin)).json()
    tid = (tid["items"] if isinstance(tid, dict) else tid)[0]["id"]
    names = {q["name"] for q in (await client.get(f"{API}/queues", headers=admin)).json()}
    if QUEUE not in names:  # a queue of its own, which no agent serves: its tasks stay where the form puts them
        assert (await client.post(f"{API}/queues", json={"name": QUEUE}, headers=admin)).status_code == 201
    policy = {"web_queue": QUEUE.upper()}  # names match whatever their case
    r = await client.patch(f"{API}/tenants/{tid}", json={"callback_policy": policy}, headers=admin)
    assert r.status_code == 200, r.text
    center.form_limits = forms.FormLimits()  # every test starts with fresh limits
    yield
    await client.patch(f"{API}/tenants/{tid}", json={"callback_policy": {}}, headers=admin)


async def web_callbacks(center: Infolinia) -> list[Callback]:
    async with center.db.session() as s:
        return list(await s.scalars(select(Callback).where(Callback.source == "web").order_by(Callback.id)))


async def test_the_form_is_off_until_the_tenant_names_a_queue(client: httpx.AsyncClient) -> None:
    assert (await client.get(FORM)).status_code == 404
    assert (await client.post(FORM, data={"number": "600100200"})).status_code == 404
    assert (await client.get("/forms/no-such-tenant/callback")).status_code == 404


async def test_the_page_is_self_contained(client: httpx.AsyncClient, form_on: None) -> None:
    r = await client.get(FORM)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    page = r.text
    assert '<form method="post">' in page and 'name="number"' in page and "Demo Telecom" in page
    assert "http://" not in page and "https://" not in page and "src=" not in page and "<link" not in page


async def test_a_form_post_leaves_a_web_callback_in_the_form_s_queue(
    client: httpx.AsyncClient, center: Infolinia, form_on: None
) -> None:
    before = len(await web_callbacks(center))
    r = await client.post(FORM, data={"number": "600 100 400", "name": "Jan", "reason": "invoice", "website": ""})
    assert r.status_code == 200 and "Thank you" in r.text, r.text
    made = (await web_callbacks(center))[before:]
    assert len(made) == 1
    cb = made[0]
    assert (cb.number, cb.reason, cb.status) == ("+48600100400", "Jan: invoice", "scheduled")
    assert cb.routing_task_id is not None and center.routing.engine.position(cb.routing_task_id) is not None
    form_queue = [q.spec.id for q in center.routing.engine.queues.values() if q.spec.name == QUEUE and
                  q.spec.tenant_id == cb.tenant_id]  # fmt: skip
    assert cb.queue_id in form_queue and center.routing.engine.tasks[cb.routing_task_id].queue_id == cb.queue_id


async def test_json_with_a_local_time(client: httpx.AsyncClient, center: Infolinia, form_on: None) -> None:
    local = (datetime.now(ZoneInfo("Europe/Warsaw")) + timedelta(days=1)).replace(
        hour=18, minute=0, second=0, microsecond=0, tzinfo=None
    )
    r = await client.post(FORM, json={"number": "+48600100401", "at": local.isoformat(timespec="minutes")})
    assert r.status_code == 201, r.text
    due = datetime.fromisoformat(r.json()["due_at"])
    assert due == local.replace(tzinfo=ZoneInfo("Europe/Warsaw"))  # 18:00 in the tenant's zone
    assert (await web_callbacks(center))[-1].due_at == due


@pytest.mark.parametrize(
    ("data", "status", "shown"),
    [
        ({"number": ""}, 422, "please give a phone number"),
        ({"number": XSS}, 422, "not a valid phone number"),
        ({"number": "600100402", "at": "tomorrow"}, 422, "not a date and time"),
        ({"number": "600100402", "at": "2020-01-01T10:00"}, 422, "has passed"),
        ({"number": "600100402", "reason": "x" * 501}, 422, "longer than 500"),
    ],
)
async def test_bad_input_is_shown_back_escaped_and_leaves_nothing(
    client: httpx.AsyncClient, center: Infolinia, form_on: None, data: dict[str, str], status: int, shown: str
) -> None:
    before = len(await web_callbacks(center))
    r = await client.post(FORM, data={**data, "name": XSS})
    assert r.status_code == status and shown in r.text, r.text
    assert XSS not in r.text and "&lt;script&gt;" in r.text  # the name is kept in the form, escaped
    assert len(await web_callbacks(center)) == before
    j = await client.post(FORM, json=data)
    assert j.status_code == status and shown in j.json()["error"]["message"]


async def test_the_hidden_field_is_a_trap(client: httpx.AsyncClient, center: Infolinia, form_on: None) -> None:
    before = len(await web_callbacks(center))
    r = await client.post(FORM, data={"number": "600100403", "website": "http://spam.example"})
    assert r.status_code == 200 and "Thank you" in r.text
    assert len(await web_callbacks(center)) == before


async def test_oversized_and_unreadable_requests(client: httpx.AsyncClient, form_on: None) -> None:
    r = await client.post(FORM, content=b"number=1&reason=" + b"x" * forms.MAX_BODY)
    assert r.status_code == 413
    r = await client.post(FORM, content=b"[1, 2]", headers={"content-type": "application/json"})
    assert r.status_code == 400


async def test_rate_limits_per_number_and_per_address(
    client: httpx.AsyncClient, center: Infolinia, form_on: None
) -> None:
    for _ in range(forms.NUMBER_LIMIT):
        assert (await client.post(FORM, json={"number": "600100404"})).status_code == 201
    r = await client.post(FORM, json={"number": "+48 600 100 404"})  # the same number, written otherwise
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    for i in range(forms.IP_LIMIT - forms.NUMBER_LIMIT):
        assert (await client.post(FORM, json={"number": f"60010050{i}"})).status_code == 201
    r = await client.post(FORM, data={"number": "600100599"})
    assert r.status_code == 429 and "too many requests" in r.text
