"""A script filled in for a contact: every text of every step, the placeholders without a value listed once, and
the values taken from the records (none from an erased customer's name)."""

from __future__ import annotations

from datetime import UTC, datetime

from infolinia.agent_scripts.context import Records, values
from infolinia.agent_scripts.placeholders import FIELDS
from infolinia.agent_scripts.render import render
from infolinia.agent_scripts.script import Script
from infolinia.store.models import Case, Channel, Customer, Interaction, Queue, Tenant, User

SCRIPT = Script.model_validate({"start": "hi", "steps": [
    {"id": "hi", "type": "say", "text": "Hi {customer.first_name} ({customer.number})", "next": "q"},
    {"id": "q", "type": "question", "text": "Case {case.number}?",
     "options": [{"label": "Yes, {case.number}", "next": "in"}, {"label": "No", "next": "end"}]},
    {"id": "in", "type": "input", "field": "x", "label": "For {queue.name}", "field_type": "choice",
     "choices": ["a", "b"], "required": False, "next": "end"},
    {"id": "end", "type": "end", "outcome": "resolved"},
]})  # fmt: skip


def test_every_text_is_filled_and_the_missing_listed_once() -> None:
    steps, missing = render(SCRIPT, {"customer.first_name": "Ewa", "customer.number": "D10007"})
    assert steps[0] == {"id": "hi", "type": "say", "text": "Hi Ewa (D10007)", "next": "q"}
    assert steps[1]["text"] == "Case [case.number]?"
    assert steps[1]["options"] == [{"label": "Yes, [case.number]", "next": "in"}, {"label": "No", "next": "end"}]
    assert steps[2] == {"id": "in", "type": "input", "field": "x", "label": "For [queue.name]",
                        "field_type": "choice", "choices": ["a", "b"], "required": False, "next": "end"}  # fmt: skip
    assert steps[3] == {"id": "end", "type": "end", "outcome": "resolved"}
    assert missing == ["case.number", "queue.name"]


def test_values_come_from_the_records() -> None:
    tenant = Tenant(name="Demo Telecom")
    customer = Customer(name="Anna Maria Nowak", number="D10002", language="pl", tier="premium")
    records = Records(
        tenant, User(display_name="Agata Nowak"),
        Interaction(channel=Channel.VOICE, from_address="+48600100200"), customer,
        Case(number=12, subject="Invoice", category="billing", status="open"), Queue(name="Billing"),
        "+48600100200", "anna@example.test",
    )  # fmt: skip
    filled = values(records)
    assert set(filled) == set(FIELDS)
    assert filled["customer.first_name"] == "Anna" and filled["customer.last_name"] == "Maria Nowak"
    assert filled["agent.first_name"] == "Agata" and filled["case.number"] == "12" and filled["queue.name"] == "Billing"
    assert filled["contact.channel"] == "voice" and filled["company.name"] == "Demo Telecom"
    customer.erased_at = datetime(2026, 12, 1, tzinfo=UTC)
    assert values(records)["customer.name"] is None and values(records)["customer.first_name"] is None
    nothing = values(Records(tenant))
    assert [name for name, value in nothing.items() if value is not None] == ["company.name"]
