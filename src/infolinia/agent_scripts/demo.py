"""The demo tenant's agent scripts: an invoice complaint in Polish ("Reklamacja faktury") and in English ("Invoice
complaint"), each with a branch on what the complaint is about, recorded answers (the invoice number, the disputed
amount or a description) and placeholders, attached to the Billing queue, the IVR's billing choice and the
billing case category."""

from __future__ import annotations

from typing import Any

from infolinia.agent_scripts.actions import create_script
from infolinia.agent_scripts.schemas import ScriptIn
from infolinia.store.models import AgentScript, Tenant
from infolinia.store.uow import Tx

__all__ = ["DEMO_SCRIPTS", "seed_scripts"]


def _complaint(texts: dict[str, str], options: dict[str, str]) -> dict[str, Any]:
    """The complaint's steps, in one language."""
    return {
        "start": "greeting",
        "steps": [
            {"id": "greeting", "type": "say", "text": texts["greeting"], "next": "invoice"},
            {"id": "invoice", "type": "input", "text": texts["invoice"], "field": "invoice_number",
             "label": texts["invoice_label"], "next": "about"},
            {"id": "about", "type": "question", "text": texts["about"], "options": [
                {"label": options["twice"], "next": "amount"},
                {"label": options["amount"], "next": "amount"},
                {"label": options["other"], "next": "describe"},
            ]},
            {"id": "amount", "type": "input", "text": texts["amount"], "field": "disputed_amount",
             "label": texts["amount_label"], "field_type": "number", "next": "file"},
            {"id": "describe", "type": "input", "text": texts["describe"], "field": "description",
             "label": texts["describe_label"], "next": "file"},
            {"id": "file", "type": "question", "text": texts["file"], "options": [
                {"label": options["yes"], "next": "filed"},
                {"label": options["no"], "next": "closing"},
            ]},
            {"id": "filed", "type": "end", "text": texts["filed"], "outcome": "create_case"},
            {"id": "closing", "type": "end", "text": texts["closing"], "outcome": "resolved"},
        ],
    }  # fmt: skip


POLISH = _complaint(
    {
        "greeting": "Dzień dobry, {customer.first_name}. Nazywam się {agent.first_name}, {company.name}. "
        "Rozumiem, że chodzi o fakturę.",
        "invoice": "Proszę podać numer faktury, której dotyczy reklamacja.",
        "invoice_label": "Numer faktury",
        "about": "Czego dotyczy reklamacja?",
        "amount": "Jaka kwota jest sporna?",
        "amount_label": "Sporna kwota (zł)",
        "describe": "Proszę opisać, co się nie zgadza.",
        "describe_label": "Opis",
        "file": "Czy założyć reklamację dla klienta {customer.number}?",
        "filed": "Zakładam reklamację. Odpowiemy w ciągu 14 dni na adres {customer.email}. Dziękuję, "
        "{customer.first_name}!",
        "closing": "Dziękuję za rozmowę. Czy mogę jeszcze w czymś pomóc?",
    },
    {"twice": "Podwójne obciążenie", "amount": "Błędna kwota", "other": "Inne", "yes": "Tak", "no": "Nie"},
)
ENGLISH = _complaint(
    {
        "greeting": "Good day, {customer.first_name}. My name is {agent.first_name}, {company.name}. "
        "I understand you are calling about an invoice.",
        "invoice": "Could you give me the number of the invoice, please?",
        "invoice_label": "Invoice number",
        "about": "What is wrong with the invoice?",
        "amount": "Which amount do you dispute?",
        "amount_label": "Disputed amount (PLN)",
        "describe": "Please describe what is wrong.",
        "describe_label": "Description",
        "file": "Shall I file a complaint for customer {customer.number}?",
        "filed": "I am filing the complaint. We will answer within 14 days at {customer.email}. Thank you, "
        "{customer.first_name}!",
        "closing": "Thank you for calling. Is there anything else I can help you with?",
    },
    {"twice": "Charged twice", "amount": "Wrong amount", "other": "Something else", "yes": "Yes", "no": "No"},
)
#: (name, language, description, definition)
DEMO_SCRIPTS = (
    ("Reklamacja faktury", "pl", "Reklamacja faktury: numer, czego dotyczy, sporna kwota lub opis.", POLISH),
    ("Invoice complaint", "en", "An invoice complaint: its number, what is wrong, the amount or a description.",
     ENGLISH),
)  # fmt: skip


async def seed_scripts(tx: Tx, tenant: Tenant, billing_queue_id: int, flow_id: int) -> list[AgentScript]:
    """The demo's scripts, attached to the Billing queue, the IVR flow's ``billing`` node and category billing."""
    attachments = {"queue_ids": [billing_queue_id], "ivr": [{"flow_id": flow_id, "node_id": "billing"}],
                   "categories": ["billing"]}  # fmt: skip
    made = []
    for name, language, description, definition in DEMO_SCRIPTS:
        body = ScriptIn.model_validate({"name": name, "language": language, "description": description,
                                        "definition": definition, "attachments": attachments})  # fmt: skip
        made.append(await create_script(tx, tenant, body))
    return made
