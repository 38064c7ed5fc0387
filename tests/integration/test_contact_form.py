"""The public contact form: off until the tenant names its web queue; a request (form or JSON) is a case with the
customer's words, for the customer found by e-mail or phone (or a new one), with a contact of channel form, waiting
in the web queue; bad input shown back escaped; a robot's hidden field ignored; rate limits per address and per
e-mail."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.store.models import Case, CaseLink, Customer, Interaction, RoutingTask
from infolinia.web import contact
from tests.conftest import Login

API = "/api/v1"
FORM = "/forms/demo/contact"
XSS = '<script>alert("x")</script>'
QUEUE = "Web form tests"


@pytest.fixture
async def form_on(client: httpx.AsyncClient, login: Login, center: Infolinia) -> AsyncIterator[int]:
    admin = await login("admin@demo.test")
    tid = (await client.get(f"{API}/tenants", headers=admin)).json()
    tid = (tid["items"] if isinstance(tid, dict) else tid)[0]["id"]
    queues = {q["name"]: q["id"] for q in (await client.get(f"{API}/queues", headers=admin)).json()}
    if QUEUE not in queues:  # a queue of its own, which no agent serves: its tasks stay where the form puts them
        r = await client.post(f"{API}/queues", json={"name": QUEUE}, headers=admin)
        assert r.status_code == 201
        queues[QUEUE] = r.json()["id"]
    r = await client.patch(f"{API}/tenants/{tid}", json={"callback_policy": {"web_queue": QUEUE}}, headers=admin)
    assert r.status_code == 200, r.text
    center.contact_limits = contact.ContactLimits()  # every test starts with fresh limits
    yield queues[QUEUE]
    await client.patch(f"{API}/tenants/{tid}", json={"callback_policy": {}}, headers=admin)


async def test_the_form_is_off_until_the_tenant_names_a_web_queue(client: httpx.AsyncClient) -> None:
    assert (await client.get(FORM)).status_code == 404
    assert (await client.post(FORM, data={"message": "hi", "email": "a@example.com"})).status_code == 404
    assert (await client.get("/forms/no-such-tenant/contact")).status_code == 404


async def test_the_page_is_self_contained_and_lists_the_topics(client: httpx.AsyncClient, form_on: int) -> None:
    r = await client.get(FORM)
    assert r.status_code == 200 and "default-src 'none'" in r.headers["content-security-policy"]
    assert '<form method="post">' in r.text and 'name="message"' in r.text and "Demo Telecom" in r.text
    assert '<option value="complaint">A complaint</option>' in r.text
    assert "http://" not in r.text and "https://" not in r.text and "src=" not in r.text


async def test_a_message_files_a_case_for_a_new_customer_waiting_in_the_web_queue(
    client: httpx.AsyncClient, center: Infolinia, form_on: int
) -> None:
    email = f"web-{uuid.uuid4().hex[:8]}@example.net"
    r = await client.post(FORM, json={"name": "Ola  Nowa", "email": email.upper(), "topic": "complaint",
                                      "message": "The parcel came broken.\nPlease call me."})  # fmt: skip
    assert r.status_code == 201, r.text
    number = r.json()["case_number"]
    async with center.db.session() as s:
        subject = "The parcel came broken. Please call me."
        case = await s.scalar(select(Case).where(Case.number == number, Case.subject == subject))
        assert case is not None and case.category == "complaint" and case.status == "new"
        customer = await s.get(Customer, case.customer_id)
        assert customer is not None and customer.name == "Ola Nowa"
        task = await s.get(RoutingTask, case.routing_task_id)
        assert task is not None and task.queue_id == form_on and task.channel == "case" and task.state == "waiting"
        link = await s.scalar(select(CaseLink.interaction_id).where(CaseLink.case_id == case.id))
        contact_row = await s.get(Interaction, link)
        assert contact_row is not None and contact_row.channel == "form" and contact_row.from_address == email

    # the same e-mail again: the same customer, a second case
    r = await client.post(FORM, data={"email": email, "subject": "Again", "message": "Still broken."})
    assert r.status_code == 200 and "Your case number is" in r.text
    async with center.db.session() as s:
        again = await s.scalar(select(Case).where(Case.subject == "Again", Case.customer_id == customer.id))
        assert again is not None and again.category == "question"  # the first topic when none is chosen


async def test_bad_input_is_shown_back_escaped_and_nothing_is_filed(
    client: httpx.AsyncClient, center: Infolinia, form_on: int
) -> None:
    async with center.db.session() as s:
        before = len(list(await s.scalars(select(Case.id))))
    for fields, said in (({"message": XSS}, "e-mail address or a phone number"),
                         ({"email": "not-an-address", "message": "x"}, ""),
                         ({"email": "a@example.com"}, "write your message"),
                         ({"email": "a@example.com", "message": "x", "topic": "secret"}, "topic"),
                         ({"email": "a@example.com", "message": "x" * 5001}, "5000")):  # fmt: skip
        r = await client.post(FORM, data={**fields, "name": XSS})
        assert r.status_code == 422 and said in r.text
        assert "<script>" not in r.text and "&lt;script&gt;" in r.text
    r = await client.post(FORM, json={"message": "x"})
    assert r.status_code == 422 and "error" in r.json()
    bad = await client.post(FORM, content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert bad.status_code == 400
    assert (await client.post(FORM, content=b"x" * (contact.MAX_BODY + 1))).status_code == 413
    async with center.db.session() as s:
        assert len(list(await s.scalars(select(Case.id)))) == before


async def test_robots_and_floods_are_turned_away(client: httpx.AsyncClient, center: Infolinia, form_on: int) -> None:
    async with center.db.session() as s:
        before = len(list(await s.scalars(select(Case.id))))
    r = await client.post(FORM, data={"email": "robot@example.com", "message": "buy", "website": "http://spam"})
    assert r.status_code == 200 and "Thank you" in r.text  # answered as a success, filed nowhere
    email = f"flood-{uuid.uuid4().hex[:8]}@example.net"
    for _ in range(contact.ADDRESS_LIMIT):
        assert (await client.post(FORM, json={"email": email, "message": "hello"})).status_code == 201
    r = await client.post(FORM, json={"email": email, "message": "hello"})  # per e-mail address, a day
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    for i in range(contact.IP_LIMIT - contact.ADDRESS_LIMIT):
        assert (await client.post(FORM, json={"email": f"{i}{email}", "message": "hello"})).status_code == 201
    r = await client.post(FORM, json={"email": f"x{email}", "message": "hello"})  # per client address
    assert r.status_code == 429
    async with center.db.session() as s:
        assert len(list(await s.scalars(select(Case.id)))) == before + contact.IP_LIMIT
