"""The demo tenants (``infolinia serve --demo``): Demo Telecom (with its phone line and its agent scripts) and Acme
Shop, with people and customers, and Demo Telecom's own voice prompts (its IVR flow's, spoken by espeak-ng in Polish
and English).

Deterministic: the same names, numbers and consents on every fresh database, so other tools can rely on them.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from sqlalchemy import select

from infolinia.agent_scripts.demo import seed_scripts
from infolinia.agents.actions import set_profile
from infolinia.auth.actions import create_user
from infolinia.customers.actions import create_customer, record_consent, set_restriction
from infolinia.interactions.actions import create_interaction
from infolinia.kb.demo import seed_demo_kb
from infolinia.schemas import (
    AgentProfileIn,
    ConsentIn,
    CustomerIn,
    IdentityIn,
    InteractionIn,
    QueueIn,
    RestrictionIn,
    TeamIn,
    TenantIn,
    UserIn,
)
from infolinia.store.db import Database
from infolinia.store.models import (
    Channel,
    ConsentPurpose,
    Direction,
    EmailAddress,
    IdentityKind,
    IvrFlow,
    Queue,
    Role,
    Tenant,
)
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx, Who, write
from infolinia.tenants.actions import create_queue, create_team, create_tenant
from infolinia.voice.ivr import DEMO_NUMBER, demo_flow
from infolinia.voice.prompts.actions import save_prompt
from infolinia.voice.prompts.audio import Samples
from infolinia.voice.prompts.catalog import DEMO_TEXTS, VOICES
from infolinia.voice.prompts.generate import synthesise_many
from infolinia.voice.telephony import known_prompts
from infolinia.voice.telephony.actions import create_flow, create_number, create_trunk
from infolinia.voice.telephony.schemas import FlowIn, NumberIn, TrunkIn
from infolinia.wrapup.actions import create_code, set_required
from infolinia.wrapup.schemas import WrapupCodeIn

PASSWORD = "demo"
SEEDER = Who(None, "demo-seed")

#: the address the demo tenant takes e-mail at (docs/email.md)
DEMO_SUPPORT_ADDRESS = "support@demo.test"
DEMO_HOURS = {
    "weekly": {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [["09:00", "14:00"]]},
    "holidays": [
        "2026-12-24",
        "2026-12-25",
        "2026-12-26",
        "2027-01-01",
        "2027-01-06",
        "2027-03-28",
        "2027-03-29",
    ],
}
#: each demo queue's wrap-up codes: (code, label, outcome class, how often the generated history picks it)
DEMO_WRAPUP = {
    "Billing": [
        ("resolved", "Resolved", "resolved", 30),
        ("bill-explained", "Bill or payment explained", "resolved", 25),
        ("payment-plan", "Payment plan agreed", "resolved", 8),
        ("case-opened", "Case opened for the back office", "follow_up", 10),
        ("callback-promised", "Callback promised", "follow_up", 6),
        ("not-resolved", "Not resolved", "not_resolved", 6),
        ("meter-reading", "Information taken (meter reading, address)", "info", 5),
        ("wrong-number", "Wrong number", "wrong_number", 2),
        ("no-contact", "No contact (silence, dropped)", "no_contact", 2),
    ],
    "Technical": [
        ("fixed", "Fixed on the contact", "resolved", 30),
        ("settings-guided", "Customer guided through the settings", "resolved", 20),
        ("technician", "Technician visit booked", "follow_up", 10),
        ("case-opened", "Case opened for the back office", "follow_up", 8),
        ("outage", "Known outage explained", "not_resolved", 8),
        ("wrong-number", "Wrong number", "wrong_number", 2),
        ("no-contact", "No contact (silence, dropped)", "no_contact", 2),
    ],
    "Sales": [
        ("order-placed", "Order placed", "resolved", 25),
        ("offer-explained", "Offer explained", "resolved", 25),
        ("offer-sent", "Offer sent, customer deciding", "follow_up", 12),
        ("not-interested", "Not interested", "resolved", 10),
        ("wrong-number", "Wrong number", "wrong_number", 2),
    ],
    "Billing back office": [
        ("corrected", "Invoice corrected", "resolved", 0),
        ("refunded", "Refund issued", "resolved", 0),
        ("claim-rejected", "Claim rejected and explained", "resolved", 0),
        ("returned", "Returned to the front line", "follow_up", 0),
    ],
}
ACME_WRAPUP = [
    ("resolved", "Resolved", "resolved"),
    ("order-changed", "Order changed", "resolved"),
    ("return-started", "Return started", "follow_up"),
    ("not-resolved", "Not resolved", "not_resolved"),
]

ACME_HOURS = {
    "weekly": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
    "holidays": [],
}

# (e-mail, name, role, extension, skills, languages)
DEMO_PEOPLE = [
    ("admin@demo.test", "Anna Administratorka", Role.TENANT_ADMIN, None, {}, ["pl", "en"]),
    ("supervisor@demo.test", "Sebastian Supervisor", Role.SUPERVISOR, None, {}, ["pl", "en"]),
    (
        "agent1@demo.test",
        "Agata Nowak",
        Role.AGENT,
        "1001",
        {"billing": 8, "technical": 3, "sales": 5},
        ["pl", "en"],
    ),
    ("agent2@demo.test", "Bartosz Kowalski", Role.AGENT, "1002", {"technical": 9, "billing": 4}, ["pl"]),
    ("agent3@demo.test", "Celina Wiśniewska", Role.AGENT, "1003", {"sales": 9, "billing": 6}, ["pl", "en"]),
    ("agent4@demo.test", "Dmitrij Iwanow", Role.AGENT, "1004", {"technical": 7, "sales": 4}, ["ru", "en"]),
    ("backoffice@demo.test", "Beata Rozliczenia", Role.BACK_OFFICE, None, {"billing": 9}, ["pl"]),
]
ACME_PEOPLE = [
    ("admin@acme.test", "Alice Admin", Role.TENANT_ADMIN, None, {}, ["en"]),
    ("agent1@acme.test", "Arthur Agent", Role.AGENT, "2001", {"orders": 7, "returns": 5}, ["en"]),
]

FIRST = [
    "Jan",
    "Anna",
    "Piotr",
    "Katarzyna",
    "Tomasz",
    "Magdalena",
    "Paweł",
    "Agnieszka",
    "Michał",
    "Joanna",
    "Krzysztof",
    "Ewa",
    "Marek",
    "Zofia",
    "Łukasz",
    "Małgorzata",
    "Grzegorz",
    "Barbara",
    "Adam",
    "Olga",
]
LAST = [
    "Kowalski",
    "Nowak",
    "Wójcik",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Kozłowski",
    "Jankowski",
    "Mazur",
    "Krawczyk",
    "Piotrowski",
    "Grabowski",
]
ACME_NAMES = [
    "Oliver Smith",
    "Amelia Jones",
    "Harry Taylor",
    "Isla Brown",
    "Jack Davies",
    "Ava Evans",
    "George Wilson",
    "Mia Thomas",
    "Noah Johnson",
    "Emily Roberts",
]


def _female(first: str) -> bool:
    return first.endswith("a")


def _polish_name(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if _female(first) and last.endswith("ski"):
        last = last[:-1] + "a"
    return f"{first} {last}"


async def _people(
    tx: Tx,
    tenant: Tenant,
    people: list[tuple[str, str, Role, str | None, dict[str, int], list[str]]],
    team_of: dict[str, int],
) -> dict[str, int]:
    """The users, by e-mail."""
    ids = {}
    for email, name, role, ext, skills, langs in people:
        user = await create_user(
            tx,
            tenant.id,
            UserIn(
                email=email,
                display_name=name,
                role=role,
                password=PASSWORD,
                language=langs[0],
                team_ids=[team_of[email]] if email in team_of else [],
            ),
            min_password_length=0,
        )
        ids[email] = user.id
        if role in (Role.AGENT, Role.SUPERVISOR, Role.BACK_OFFICE):
            await set_profile(
                tx,
                user,
                tenant,
                AgentProfileIn(extension=ext, sip_password=PASSWORD if ext else None, skills=skills, languages=langs),
            )
    return ids


def _consent(purpose: ConsentPurpose, granted: bool, source: str) -> ConsentIn:
    return ConsentIn(purpose=purpose, granted=granted, channel="import", source=source)


def _speak_demo_prompts() -> dict[tuple[str, str], Samples]:
    """The demo tenant's own prompts (the IVR flow's), in Polish and English, from espeak-ng."""
    texts = {(lang, name): (text, VOICES[lang]) for lang, said in DEMO_TEXTS.items() for name, text in said.items()}
    return synthesise_many(texts)


async def _demo_telecom(tx: Tx, prompts: dict[tuple[str, str], Samples]) -> None:
    tenant = await create_tenant(
        tx,
        TenantIn(
            slug="demo",
            name="Demo Telecom",
            timezone="Europe/Warsaw",
            country="PL",
            languages=["pl", "en"],
            business_hours=DEMO_HOURS,
        ),
    )
    front = await create_team(tx, tenant.id, TeamIn(name="Front line"))
    billing_bo = await create_team(tx, tenant.id, TeamIn(name="Billing back office"))
    queues = {}
    # Sales keeps the tenant's business hours; the others are open around the clock, so the demo works at any hour
    for name, team, hours in (
        ("Billing", front.id, False),
        ("Technical", front.id, False),
        ("Sales", front.id, True),
        ("Billing back office", billing_bo.id, False),
    ):
        queues[name] = await create_queue(tx, tenant.id, QueueIn(name=name, team_id=team, business_hours=hours))
    await _wrapup_codes(tx, queues)
    # cases climb: the front line, the billing back office (offered to its agents in its queue), the duty manager
    # (a supervisor's call: no team)
    tenant.case_policy = {"ladder": [
        {"name": "Front line", "team_id": front.id},
        {"name": "Billing back office", "team_id": billing_bo.id, "queue_id": queues["Billing back office"].id},
        {"name": "Duty manager", "team_id": None},
    ]}  # fmt: skip
    team_of = {p[0]: front.id for p in DEMO_PEOPLE if p[2] is Role.AGENT} | {"backoffice@demo.test": billing_bo.id}
    users = await _people(tx, tenant, DEMO_PEOPLE, team_of)
    agents = [users[p[0]] for p in DEMO_PEOPLE if p[2] is Role.AGENT]
    for (language, name), samples in sorted(prompts.items()):  # before the flow, which names them
        await save_prompt(tx, tenant.id, name, language, samples)
    flow = await _phone_line(tx, tenant)
    await seed_demo_kb(tx, tenant.id)
    await seed_scripts(tx, tenant, queues["Billing"].id, flow.id)
    await _email_channel(tx, tenant, front.id)
    await _chat_channel(tx, tenant, front.id)

    rng = random.Random(20261123)
    codes_rng = random.Random(20261207)  # a stream of its own: the rest of the history stays as it was
    prefixes = ["50", "51", "53", "57", "60", "66", "69", "72", "78", "79", "88"]
    now = utcnow()
    for i in range(1, 51):
        name = _polish_name(rng)
        phone = f"+48{rng.choice(prefixes)}{rng.randrange(1_000_000, 9_999_999)}"
        local = name.lower().replace(" ", ".").translate(str.maketrans("łąćęńóśźż", "lacenoszz"))
        consents = [
            _consent(ConsentPurpose.SERVICE, True, "contract"),
            _consent(ConsentPurpose.MARKETING_PHONE, i % 3 != 0, "contract form"),
            _consent(ConsentPurpose.MARKETING_EMAIL, i % 2 == 0, "contract form"),
            _consent(ConsentPurpose.CALL_RECORDING, i % 10 != 7, "IVR notice"),
        ]
        customer = await create_customer(
            tx,
            tenant,
            CustomerIn(
                name=name,
                number=f"D{10000 + i}",
                language="en" if i % 9 == 0 else ("ru" if i % 17 == 0 else "pl"),
                timezone="Europe/Warsaw",
                preferred_channel=("voice", "email", "chat")[i % 3],
                contact_windows=["weekdays after 18:00"] if i % 4 == 0 else [],
                tier="premium" if i % 8 == 0 else "standard",
                identities=[
                    IdentityIn(kind=IdentityKind.PHONE, value=phone),
                    IdentityIn(kind=IdentityKind.EMAIL, value=f"{local}{i}@example.pl"),
                ],
                consents=consents,
            ),
        )
        if i % 5 == 1:  # a later withdrawal of marketing calls, recorded by an agent on the phone
            await record_consent(
                tx,
                customer,
                ConsentIn(
                    purpose=ConsentPurpose.MARKETING_PHONE,
                    granted=False,
                    channel="voice",
                    source="customer asked on a service call",
                ),
            )
        if i == 13:
            await set_restriction(tx, customer, RestrictionIn(reason="complaint procedure: contact via legal only"))
        for k in range(i % 4):
            start = now - timedelta(days=rng.randrange(1, 60), minutes=rng.randrange(0, 600))
            queue = rng.choice(list(queues.values())[:3])
            await create_interaction(
                tx,
                tenant.id,
                InteractionIn(
                    channel=(Channel.VOICE, Channel.EMAIL, Channel.CHAT)[k % 3],
                    direction=Direction.INBOUND,
                    customer_id=customer.id,
                    queue_id=queue.id,
                    agent_id=codes_rng.choice(agents),
                    created_at=start,
                    queued_at=start,
                    offered_at=start + timedelta(seconds=rng.randrange(5, 90)),
                    answered_at=start + timedelta(seconds=rng.randrange(90, 120)),
                    ended_at=start + timedelta(seconds=rng.randrange(200, 700)),
                    wrapup_ended_at=start + timedelta(seconds=rng.randrange(700, 800)),
                    disposition_code=_history_code(codes_rng, queue.name),
                    from_address=phone if k % 3 == 0 else None,
                ),
            )


async def _wrapup_codes(tx: Tx, queues: dict[str, Queue]) -> None:
    """Each demo queue's wrap-up codes; the billing back office requires one at the end of wrap-up."""
    for name, codes in DEMO_WRAPUP.items():
        for code, label, outcome, _ in codes:
            await create_code(tx, queues[name], WrapupCodeIn(code=code, label=label, outcome=outcome))
    await set_required(tx, queues["Billing back office"], True)


def _history_code(rng: random.Random, queue: str) -> str:
    """A code of the queue for a generated contact, as often as its weight says."""
    codes = DEMO_WRAPUP[queue]
    return rng.choices([c[0] for c in codes], weights=[c[3] for c in codes])[0]


async def _phone_line(tx: Tx, tenant: Tenant) -> IvrFlow:
    """The demo number enters the main menu (whose queues Billing, Technical and Sales exist by now); calls come in
    over the trunk "local": from this machine (a softphone, SIPp), without credentials."""
    main_menu = FlowIn(name="Main menu", definition=demo_flow().model_dump(mode="json"))
    flow = await create_flow(tx, tenant.id, main_menu, await known_prompts(tx.session, tenant.id))
    await create_number(tx, tenant, NumberIn(number=DEMO_NUMBER, label="Main line", flow_id=flow.id))
    await create_trunk(tx, tenant, TrunkIn(name="local", allowed_sources=["127.0.0.1/32", "::1/128"]))
    return flow


async def _acme(tx: Tx) -> None:
    tenant = await create_tenant(
        tx,
        TenantIn(
            slug="acme",
            name="Acme Shop",
            timezone="Europe/London",
            country="GB",
            languages=["en"],
            business_hours=ACME_HOURS,
        ),
    )
    orders = await create_queue(tx, tenant.id, QueueIn(name="Orders"))
    for code, label, outcome in ACME_WRAPUP:
        await create_code(tx, orders, WrapupCodeIn(code=code, label=label, outcome=outcome))
    await _people(tx, tenant, ACME_PEOPLE, {})
    for i, name in enumerate(ACME_NAMES, start=1):
        await create_customer(
            tx,
            tenant,
            CustomerIn(
                name=name,
                number=f"A{500 + i}",
                language="en",
                timezone="Europe/London",
                identities=[
                    IdentityIn(kind=IdentityKind.PHONE, value=f"+4479111234{i:02d}"),
                    IdentityIn(kind=IdentityKind.EMAIL, value=f"{name.lower().replace(' ', '.')}@example.co.uk"),
                ],
                consents=[
                    _consent(ConsentPurpose.SERVICE, True, "order terms"),
                    _consent(ConsentPurpose.MARKETING_EMAIL, i % 2 == 1, "checkout box"),
                ],
            ),
        )


async def _email_channel(tx: Tx, tenant: Tenant, team_id: int) -> None:
    """The demo's inbound e-mail: mail to ``support@demo.test`` (forwarded to the SMTP listener) waits in the front
    line's "E-mail" queue, around the clock. No relay: replies need one set first (docs/email.md)."""
    queue = await create_queue(tx, tenant.id, QueueIn(name="E-mail", team_id=team_id, business_hours=False))
    tx.session.add(EmailAddress(tenant_id=tenant.id, address=DEMO_SUPPORT_ADDRESS))
    tenant.email_settings = {"from_address": DEMO_SUPPORT_ADDRESS, "from_name": tenant.name, "queue_id": queue.id}


#: the demo tenant's public chat widget key (it is in every page that embeds the widget; docs/chat.md)
DEMO_WIDGET_KEY = "demo-telecom-chat-widget"


async def _chat_channel(tx: Tx, tenant: Tenant, team_id: int) -> None:
    """The demo's web chat: the widget on ``/chat/demo`` (and on pages served from localhost:8000 or :8080), its
    chats waiting in the front line's "Chat" queue, around the clock."""
    queue = await create_queue(tx, tenant.id, QueueIn(name="Chat", team_id=team_id, business_hours=False))
    tenant.chat_settings = {
        "enabled": True, "widget_key": DEMO_WIDGET_KEY, "topics": {"question": queue.id, "billing": queue.id},
        "allowed_origins": ["http://localhost:8000", "http://127.0.0.1:8000", "http://localhost:8080"],
    }  # fmt: skip


async def seed(db: Database) -> bool:
    """Create the demo tenants if the database has no tenants yet. True when it seeded."""
    async with db.session() as session:
        if await session.scalar(select(Tenant.id).limit(1)) is not None:
            return False
    prompts = await asyncio.to_thread(_speak_demo_prompts)  # before the transaction: no lock held meanwhile
    async with write(db, None, SEEDER) as tx:
        await _demo_telecom(tx, prompts)
        await _acme(tx)
    return True


LOGINS = [p[0] for p in DEMO_PEOPLE] + [p[0] for p in ACME_PEOPLE]


def logins_text(base_url: str) -> str:
    lines = [f"Demo logins (password '{PASSWORD}') at {base_url}/api/v1/auth/login:"]
    lines += [f"  {email}" for email in LOGINS]
    lines.append(f"SIP: extensions 1001-1004 of tenant demo, password '{PASSWORD}', realm demo.infolinia")
    return "\n".join(lines)
