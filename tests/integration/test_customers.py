"""Customers: consent history, bad input, restriction, export and erasure."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from infolinia.app import Infolinia
from infolinia.store.models import ChatFile, ChatMessage, ChatSession, ConsentEvent, Customer, Tenant
from tests.conftest import Login

API = "/api/v1"


async def new_customer(client: httpx.AsyncClient, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    body = {"name": "Test Customer"} | extra
    r = await client.post(f"{API}/customers", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_consent_withdrawal_is_recorded_and_visible_at_once(client: httpx.AsyncClient, login: Login) -> None:
    agent = await login("agent1@demo.test")
    c = await new_customer(
        client, agent, consents=[{"purpose": "marketing_phone", "granted": True, "channel": "web", "source": "signup"}]
    )
    assert c["consent"]["marketing_phone"] is True
    before = datetime.now(UTC)
    r = await client.post(
        f"{API}/customers/{c['id']}/consent",
        json={"purpose": "marketing_phone", "granted": False, "channel": "voice", "source": "call, customer asked"},
        headers=agent,
    )
    assert r.status_code == 201
    event = r.json()
    assert event["actor_label"] == "agent1@demo.test" and event["actor_user_id"] is not None
    assert event["channel"] == "voice" and event["source"] == "call, customer asked"
    assert datetime.fromisoformat(event["created_at"]) >= before - timedelta(seconds=1)
    # visible at once, to anyone in the tenant
    sup = await login("supervisor@demo.test")
    now = (await client.get(f"{API}/customers/{c['id']}", headers=sup)).json()
    assert now["consent"]["marketing_phone"] is False
    assert now["consent"]["service"] is None  # never recorded is not "granted"
    history = (await client.get(f"{API}/customers/{c['id']}/consent", headers=sup)).json()
    assert [(h["purpose"], h["granted"]) for h in history] == [("marketing_phone", True), ("marketing_phone", False)]
    audit = await client.get(f"{API}/audit", params={"action": "consent.changed", "object_id": c["id"]}, headers=sup)
    assert len(audit.json()["items"]) == 2


async def test_consent_history_is_append_only_in_the_database(center: Infolinia) -> None:
    async with center.db.session() as s:
        first_id = await s.scalar(select(func.min(ConsentEvent.id)))
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(update(ConsentEvent).where(ConsentEvent.id == first_id).values(granted=False))
        await s.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(text("DELETE FROM consent_events"))
        await s.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(text("DELETE FROM audit_events"))
        await s.rollback()


async def test_no_route_edits_or_deletes_consent(http_app) -> None:  # type: ignore[no-untyped-def]
    for path, ops in http_app.openapi()["paths"].items():
        if "consent" in path:
            assert set(ops) <= {"get", "post"}, path


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"name": "X", "identities": [{"kind": "phone", "value": "12"}]}, "phone"),
        ({"name": "X", "identities": [{"kind": "phone", "value": "+48 abc 100 200"}]}, "phone"),
        ({"name": "X", "identities": [{"kind": "email", "value": "not-an-email"}]}, "e-mail"),
        ({"name": "X", "favourite_colour": "blue"}, "favourite_colour"),
        ({"name": 12345}, "name"),
        ({"name": "X" * 201}, "name"),
        ({"name": "X", "timezone": "Mars/Olympus"}, "time zone"),
        ({"name": "X", "contact_windows": ["whenever you like"]}, "contact_windows"),
        ({"name": "X", "identities": "+48600100200"}, "identities"),
        (
            {"name": "X", "consents": [{"purpose": "telepathy", "granted": True, "channel": "web", "source": "x"}]},
            "purpose",
        ),
    ],
)
async def test_bad_customer_input_is_422_with_a_clear_message(
    client: httpx.AsyncClient, login: Login, body: dict[str, Any], where: str
) -> None:
    agent = await login("agent1@demo.test")
    r = await client.post(f"{API}/customers", json=body, headers=agent)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] in {"validation_error", "invalid_identity"}
    assert where.lower() in (error["message"] + str(error.get("details", ""))).lower(), error


async def test_invalid_identity_writes_nothing(center: Infolinia, client: httpx.AsyncClient, login: Login) -> None:
    agent = await login("agent1@demo.test")
    body = {
        "name": "Half Written",
        "identities": [{"kind": "phone", "value": "+48 600 999 111"}, {"kind": "phone", "value": "+48 0"}],
        "consents": [{"purpose": "service", "granted": True, "channel": "web", "source": "x"}],
    }
    r = await client.post(f"{API}/customers", json=body, headers=agent)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_identity"
    async with center.db.session() as s:
        assert await s.scalar(select(func.count()).where(Customer.name == "Half Written")) == 0
    found = await client.get(f"{API}/customers", params={"phone": "+48600999111"}, headers=agent)
    assert found.json()["items"] == []


async def test_identity_unique_per_tenant_and_normalised(client: httpx.AsyncClient, login: Login) -> None:
    agent = await login("agent1@demo.test")
    a = await new_customer(client, agent, identities=[{"kind": "phone", "value": "0048 601-222-333"}])
    assert a["identities"][0]["value"] == "+48601222333"
    r = await client.post(
        f"{API}/customers",
        json={"name": "Dup", "identities": [{"kind": "phone", "value": "601 222 333"}]},
        headers=agent,
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "identity_taken"
    # another tenant may hold the same number: identities are unique per tenant only
    acme = await login("agent1@acme.test")
    b = await new_customer(client, acme, identities=[{"kind": "phone", "value": "+48601222333"}])
    assert b["identities"][0]["value"] == "+48601222333"


async def test_oversized_and_malformed_bodies(client: httpx.AsyncClient, login: Login) -> None:
    agent = await login("agent1@demo.test")
    big = {"name": "Big", "notes": "x" * 2_000_000}
    r = await client.post(f"{API}/customers", json=big, headers=agent)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 65536

    r = await client.post(f"{API}/customers", content=chunks(), headers=agent | {"content-type": "application/json"})
    assert r.status_code == 413
    r = await client.post(
        f"{API}/customers", content=b"{not json", headers=agent | {"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


async def test_restriction_with_expiry(client: httpx.AsyncClient, login: Login) -> None:
    sup = await login("supervisor@demo.test")
    agent = await login("agent1@demo.test")
    c = await new_customer(client, agent)
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    r = await client.put(
        f"{API}/customers/{c['id']}/restriction", json={"reason": "legal hold", "until": until}, headers=agent
    )
    assert r.status_code == 403
    r = await client.put(
        f"{API}/customers/{c['id']}/restriction", json={"reason": "legal hold", "until": until}, headers=sup
    )
    assert r.status_code == 200 and r.json()["restricted"] is True and r.json()["restricted_reason"] == "legal hold"
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    r = await client.put(f"{API}/customers/{c['id']}/restriction", json={"reason": "x", "until": past}, headers=sup)
    assert r.status_code == 422
    r = await client.put(
        f"{API}/customers/{c['id']}/restriction", json={"reason": "x", "until": "2030-01-01T10:00"}, headers=sup
    )
    assert r.status_code == 422  # naive timestamps are refused: whose 10:00?
    r = await client.delete(f"{API}/customers/{c['id']}/restriction", headers=sup)
    assert r.json()["restricted"] is False


async def test_export_then_erase(center: Infolinia, client: httpx.AsyncClient, login: Login) -> None:
    admin = await login("admin@demo.test")
    agent = await login("agent1@demo.test")
    c = await new_customer(
        client,
        agent,
        name="Erika Erasable",
        identities=[{"kind": "phone", "value": "+48 602 111 999"}, {"kind": "email", "value": "Erika@Example.org"}],
        consents=[{"purpose": "service", "granted": True, "channel": "web", "source": "signup"}],
    )
    r = await client.post(
        f"{API}/interactions",
        json={
            "channel": "voice",
            "direction": "in",
            "customer_id": c["id"],
            "from_address": "+48602111999",
            "notes": "Erika called about her invoice",
        },
        headers=agent,
    )
    assert r.status_code == 201
    interaction_id = r.json()["id"]

    assert (await client.get(f"{API}/customers/{c['id']}/export", headers=agent)).status_code == 403
    export = (await client.get(f"{API}/customers/{c['id']}/export", headers=admin)).json()
    assert export["customer"]["name"] == "Erika Erasable"
    assert {i["value"] for i in export["customer"]["identities"]} == {"+48602111999", "erika@example.org"}
    assert export["consent_history"][0]["purpose"] == "service"
    assert export["interactions"][0]["notes"] == "Erika called about her invoice"

    r = await client.post(f"{API}/customers/{c['id']}/erase", json={"reason": "GDPR art. 17 request"}, headers=admin)
    assert r.status_code == 200
    erased = r.json()
    assert erased["erased"] is True and erased["name"] == "(erased)" and erased["identities"] == []
    inter = (await client.get(f"{API}/interactions/{interaction_id}", headers=admin)).json()
    assert inter["notes"] is None and inter["from_address"] is None and inter["customer_id"] == c["id"]
    assert (await client.get(f"{API}/customers", params={"phone": "+48602111999"}, headers=admin)).json()["items"] == []
    r = await client.patch(f"{API}/customers/{c['id']}", json={"name": "Back"}, headers=admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "customer_erased"
    actions = [
        a["action"]
        for a in (
            await client.get(f"{API}/audit", params={"object_type": "customer", "object_id": c["id"]}, headers=admin)
        ).json()["items"]
    ]
    assert actions[:2] == ["customer.erased", "customer.exported"]
    # no personal value of the erased customer is left in the audit log
    audit_text = (await client.get(f"{API}/audit", params={"limit": 500}, headers=admin)).text
    assert "Erika" not in audit_text and "602111999" not in audit_text


async def test_interaction_timeline_must_be_in_order(client: httpx.AsyncClient, login: Login) -> None:
    agent = await login("agent1@demo.test")
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    body = {
        "channel": "chat",
        "direction": "in",
        "created_at": t0.isoformat(),
        "answered_at": (t0 + timedelta(seconds=30)).isoformat(),
        "ended_at": (t0 + timedelta(seconds=10)).isoformat(),
    }
    r = await client.post(f"{API}/interactions", json=body, headers=agent)
    assert r.status_code == 422 and r.json()["error"]["code"] == "timeline_order"
    body["ended_at"] = (t0 + timedelta(minutes=5)).isoformat()
    r = await client.post(f"{API}/interactions", json=body, headers=agent)
    assert r.status_code == 201
    iid = r.json()["id"]
    r = await client.patch(f"{API}/interactions/{iid}", json={"wrapup_ended_at": t0.isoformat()}, headers=agent)
    assert r.status_code == 422
    r = await client.patch(
        f"{API}/interactions/{iid}",
        json={"wrapup_ended_at": (t0 + timedelta(minutes=6)).isoformat(), "disposition_code": "resolved"},
        headers=agent,
    )
    assert r.status_code == 200 and r.json()["disposition_code"] == "resolved"
    acme_customer = (await client.get(f"{API}/customers", headers=await login("agent1@acme.test"))).json()["items"][0]
    r = await client.patch(f"{API}/interactions/{iid}", json={"customer_id": acme_customer["id"]}, headers=agent)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_reference"


async def test_nothing_new_is_written_about_an_erased_customer(client: httpx.AsyncClient, login: Login) -> None:
    admin = await login("admin@demo.test")
    c = await new_customer(client, admin, name="Gone Soon")
    r = await client.post(
        f"{API}/interactions", json={"channel": "chat", "direction": "in", "customer_id": c["id"]}, headers=admin
    )
    iid = r.json()["id"]
    assert (await client.post(f"{API}/customers/{c['id']}/erase", json={"reason": "request"}, headers=admin)).is_success
    r = await client.patch(f"{API}/interactions/{iid}", json={"notes": "Gone Soon said hi"}, headers=admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "customer_erased"
    r = await client.post(
        f"{API}/interactions", json={"channel": "chat", "direction": "in", "customer_id": c["id"]}, headers=admin
    )
    assert r.status_code == 409
    body = {"purpose": "service", "granted": True, "channel": "web", "source": "x"}
    assert (await client.post(f"{API}/customers/{c['id']}/consent", json=body, headers=admin)).status_code == 409
    r = await client.post(
        f"{API}/customers/{c['id']}/identities", json={"kind": "email", "value": "g@x.org"}, headers=admin
    )
    assert r.status_code == 409


async def test_a_contact_recorded_afterwards_starts_at_its_first_timestamp(
    client: httpx.AsyncClient, login: Login
) -> None:
    agent = await login("agent1@demo.test")
    t0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
    body = {
        "channel": "voice",
        "direction": "out",
        "answered_at": t0.isoformat(),
        "ended_at": (t0 + timedelta(minutes=3)).isoformat(),
    }
    r = await client.post(f"{API}/interactions", json=body, headers=agent)
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["created_at"]) == t0


async def test_timestamps_are_kept_and_answered_in_utc(client: httpx.AsyncClient, login: Login) -> None:
    agent = await login("agent1@demo.test")
    body = {
        "channel": "voice",
        "direction": "in",
        "created_at": "2026-11-20T10:00:00+01:00",
        "answered_at": "2026-11-20T10:00:30+01:00",
    }
    r = await client.post(f"{API}/interactions", json=body, headers=agent)
    assert r.status_code == 201
    assert r.json()["created_at"].startswith("2026-11-20T09:00:00") and r.json()["created_at"].endswith("Z")
    again = (await client.get(f"{API}/interactions/{r.json()['id']}", headers=agent)).json()
    assert again["created_at"] == r.json()["created_at"] and again["answered_at"] == r.json()["answered_at"]


@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A3", "1e3", "0x10", "-0", "%20"])
async def test_odd_path_ids_are_not_found(client: httpx.AsyncClient, login: Login, raw: str) -> None:
    agent = await login("agent1@demo.test")
    r = await client.get(f"{API}/customers/{raw}", headers=agent)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_customers_created_at_once_get_distinct_numbers(
    center: Infolinia, client: httpx.AsyncClient, login: Login
) -> None:
    agent = await login("agent1@demo.test")
    async with center.db.session() as s:
        seq = await s.scalar(select(Tenant.customer_seq).where(Tenant.slug == "demo"))
    assert seq is not None
    # a number given by hand where the counter goes next is skipped, not answered 409
    taken = f"C{seq + 1:06d}"
    await new_customer(client, agent, name="Given Number", number=taken)
    made = await asyncio.gather(*(new_customer(client, agent, name=f"At once {i}") for i in range(12)))
    numbers = [c["number"] for c in made]
    assert len(set(numbers)) == 12 and taken not in numbers
    assert all(n.startswith("C") and int(n[1:]) > seq + 1 for n in numbers)
    r = await client.post(f"{API}/customers", json={"name": "Same Again", "number": taken}, headers=agent)
    assert r.status_code == 409 and r.json()["error"]["code"] == "number_taken"


async def test_export_and_erasure_cover_the_customer_s_chats(
    center: Infolinia, client: httpx.AsyncClient, login: Login
) -> None:
    admin = await login("admin@demo.test")
    c = await new_customer(client, admin, name="Chatty Charlotte")
    stored = Path(center.settings.data_dir) / "chat-files" / "erasure-test.png"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(b"\x89PNG\r\n\x1a\n picture")
    async with center.db.session() as s:
        tenant_id = await s.scalar(select(Customer.tenant_id).where(Customer.id == c["id"]))
        chat = ChatSession(tenant_id=tenant_id, token_hash=uuid.uuid4().hex, status="ended", name="Charlotte",
                           email="charlotte@example.org", topic="question", origin="https://shop.example/cart",
                           customer_id=c["id"])  # fmt: skip
        s.add(chat)
        await s.flush()
        picture = ChatFile(tenant_id=tenant_id, chat_id=chat.id, sender="customer", filename="receipt.png",
                           content_type="image/png", size=17, sha256="0" * 64,
                           path=str(stored.relative_to(center.settings.data_dir)))  # fmt: skip
        s.add(picture)
        await s.flush()
        s.add_all([
            ChatMessage(tenant_id=tenant_id, chat_id=chat.id, sender="customer", seq=1, client_id="c1",
                        body="My card ends 4242"),
            ChatMessage(tenant_id=tenant_id, chat_id=chat.id, sender="customer", seq=2, client_id="c2",
                        body="receipt.png", file_id=picture.id),
            ChatMessage(tenant_id=tenant_id, chat_id=chat.id, sender="agent", seq=1, body="Thank you, Charlotte"),
        ])  # fmt: skip
        await s.commit()
        chat_id = chat.id
    export = (await client.get(f"{API}/customers/{c['id']}/export", headers=admin)).json()
    [chat_out] = export["chats"]
    assert chat_out["email"] == "charlotte@example.org" and chat_out["page"] == "https://shop.example/cart"
    assert [line["text"] for line in chat_out["lines"]] == ["My card ends 4242", "receipt.png", "Thank you, Charlotte"]
    assert chat_out["files"][0]["filename"] == "receipt.png"
    r = await client.post(f"{API}/customers/{c['id']}/erase", json={"reason": "asked to be forgotten"}, headers=admin)
    assert r.status_code == 200, r.text
    assert not stored.exists()
    async with center.db.session() as s:
        chat = await s.get(ChatSession, chat_id)
        assert chat is not None and (chat.name, chat.email, chat.origin) == ("(erased)", None, None)
        assert chat.status == "ended"  # the chat itself stays, for the counts
        bodies = list(await s.scalars(select(ChatMessage.body).where(ChatMessage.chat_id == chat_id)))
        assert bodies == ["", "", ""]
        assert await s.scalar(select(func.count(ChatFile.id)).where(ChatFile.chat_id == chat_id)) == 0
