"""E-mail through real SMTP: smtplib sends to the process's listener, an aiosmtpd sink stands for the tenant's
relay. Each test works in a tenant of this module's own (its address, queue, relay), with senders of its own."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from infolinia.agents.actions import set_profile
from infolinia.app import Infolinia
from infolinia.auth.actions import create_user
from infolinia.schemas import AgentProfileIn, QueueIn, TenantIn, UserIn
from infolinia.store.models import (
    Case,
    CaseLink,
    Customer,
    CustomerIdentity,
    EmailAddress,
    EmailAttachment,
    Interaction,
    Role,
    RoutingTask,
)
from infolinia.store.models import (
    EmailMessage as EmailRow,
)
from infolinia.store.uow import SYSTEM, write
from infolinia.tenants.actions import create_queue, create_tenant
from tests.conftest import Login
from tests.email_helpers import Sink, eventually, message, send, send_raw, start_sink
from tests.live import free_port
from tests.tenant_api import TenantApi

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:aiosmtpd")


@dataclass
class Mailbox:
    tenant_id: int
    address: str
    queue_id: int
    api: TenantApi
    smtp: tuple[str, int]
    sink: Sink
    sink_port: int


def sender() -> str:
    return f"cust-{uuid.uuid4().hex[:10]}@customer.example"


@pytest.fixture(scope="module")
async def mailbox(center: Infolinia, client: httpx.AsyncClient, login: Login) -> Any:
    slug = f"mail{uuid.uuid4().hex[:8]}"
    async with write(center.db, None, SYSTEM) as tx:
        tenant = await create_tenant(tx, TenantIn(slug=slug, name="Mail Test", languages=["en", "pl"]))
        queue = await create_queue(tx, tenant.id, QueueIn(name="E-mail", business_hours=False))
        admin = f"admin@{slug}.test"
        await create_user(tx, tenant.id, UserIn(email=admin, display_name="Admin", role=Role.TENANT_ADMIN,
                                                password="demo"), min_password_length=0)  # fmt: skip
    await center.routing.reload_queues([queue.id])
    port = free_port()
    sink, controller = start_sink(port)
    api = TenantApi(client, await login(admin))
    address = f"help@{slug}.test"
    await api.call("PATCH", "/email/settings", {
        "addresses": [address], "queue_id": queue.id, "from_name": "Mail Test Help",
        "relay": {"host": "127.0.0.1", "port": port, "security": "none", "username": None, "password": "s3cret"},
    })  # fmt: skip
    assert center.email.address is not None
    yield Mailbox(tenant.id, address, queue.id, api, center.email.address, sink, port)
    controller.stop()


async def processed(center: Infolinia, tenant_id: int, message_id: str) -> EmailRow:
    async def check() -> EmailRow | None:
        async with center.db.session() as s:
            row = await s.scalar(select(EmailRow).where(EmailRow.tenant_id == tenant_id,
                                                        EmailRow.message_id == message_id))  # fmt: skip
            return row if row is not None and row.status != "received" else None

    return await eventually(check)


def mid(msg: EmailMessage) -> str:
    return str(msg["Message-ID"]).strip("<>")


async def test_a_message_becomes_a_customer_a_contact_a_case_and_a_task(center: Infolinia, mailbox: Mailbox) -> None:
    who = sender()
    msg = message(f"Ewa Nowak <{who}>", mailbox.address, "My router blinks red", "It blinks since Monday.")
    await send(mailbox.smtp, msg, mailbox.address)
    row = await processed(center, mailbox.tenant_id, mid(msg))
    assert row.status == "processed" and row.case_id and row.interaction_id and row.customer_id
    async with center.db.session() as s:
        customer = await s.get(Customer, row.customer_id)
        assert customer is not None and customer.name == "Ewa Nowak"
        ident = await s.scalar(select(CustomerIdentity.value).where(CustomerIdentity.customer_id == customer.id))
        assert ident == who
        contact = await s.get(Interaction, row.interaction_id)
        assert contact is not None and contact.channel.value == "email" and contact.direction.value == "in"
        assert contact.queue_id == mailbox.queue_id and contact.queued_at is not None
        case = await s.get(Case, row.case_id)
        assert case is not None and case.subject == "My router blinks red" and case.customer_id == customer.id
        assert case.category == "question"
        task = await s.get(RoutingTask, case.routing_task_id)
        assert task is not None and task.channel == "email" and task.queue_id == mailbox.queue_id
        assert task.interaction_id == contact.id and task.state in ("waiting", "reserved")
    detail = await mailbox.api.call("GET", f"/cases/{row.case_id}")
    assert detail["entries"][0]["kind"] == "created" and "blinks since Monday" in detail["entries"][0]["body"]
    assert detail["interaction_ids"] == [row.interaction_id]
    emails = await mailbox.api.call("GET", f"/cases/{row.case_id}/emails")
    assert [e["id"] for e in emails] == [row.id] and emails[0]["direction"] == "in"
    assert "raw" not in emails[0]


async def test_the_same_message_id_is_stored_once(center: Infolinia, mailbox: Mailbox) -> None:
    msg = message(sender(), mailbox.address, "Twice sent")
    await send(mailbox.smtp, msg, mailbox.address)
    await send(mailbox.smtp, msg, mailbox.address)  # answered 250 again
    await processed(center, mailbox.tenant_id, mid(msg))
    async with center.db.session() as s:
        count = await s.scalar(select(func.count()).select_from(EmailRow).where(EmailRow.message_id == mid(msg)))
        cases = await s.scalar(select(func.count()).select_from(Case).where(Case.tenant_id == mailbox.tenant_id,
                                                                           Case.subject == "Twice sent"))  # fmt: skip
    assert count == 1 and cases == 1


async def test_a_message_without_message_id_is_known_by_its_bytes(center: Infolinia, mailbox: Mailbox) -> None:
    raw = f"From: {sender()}\r\nTo: {mailbox.address}\r\nSubject: No id {uuid.uuid4().hex}\r\n\r\nbody\r\n".encode()
    await send(mailbox.smtp, raw, mailbox.address, "x@customer.example")
    await send(mailbox.smtp, raw, mailbox.address, "x@customer.example")
    import hashlib

    key = f"sha256-{hashlib.sha256(raw).hexdigest()}@infolinia.invalid"
    row = await processed(center, mailbox.tenant_id, key)
    assert row.case_id is not None


async def test_unknown_recipients_are_refused_at_rcpt(mailbox: Mailbox, client: httpx.AsyncClient) -> None:
    import smtplib

    before = (await client.get("/healthz")).json()["subsystems"]["smtp"]
    msg = message(sender(), "nobody@nowhere.test", "Lost")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await send(mailbox.smtp, msg, "nobody@nowhere.test")
    assert refused.value.recipients["nobody@nowhere.test"][0] == 550
    after = (await client.get("/healthz")).json()["subsystems"]["smtp"]
    assert after["up"] and after["counters"]["refused_recipients"] == before["counters"]["refused_recipients"] + 1


async def test_oversized_messages_get_552(center: Infolinia, mailbox: Mailbox) -> None:
    import asyncio
    import smtplib

    big = message(sender(), mailbox.address, "Huge", ("x" * 70 + "\n") * (center.settings.smtp_max_bytes // 70 + 10))
    raw = big.as_bytes(policy=policy.SMTP)

    def without_size() -> tuple[int, bytes]:
        with smtplib.SMTP(*mailbox.smtp, timeout=30) as c:
            c.ehlo()
            assert c.has_extn("size") and int(c.esmtp_features["size"]) == center.settings.smtp_max_bytes
            c.mail("x@customer.example")  # no SIZE given: refused after the data
            c.rcpt(mailbox.address)
            return c.data(raw)

    code, _ = await asyncio.to_thread(without_size)
    assert code == 552
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # smtplib announces SIZE: refused at MAIL
        await send(mailbox.smtp, raw, mailbox.address, "x@customer.example")
    assert refused.value.smtp_code == 552
    async with center.db.session() as s:
        assert await s.scalar(select(EmailRow.id).where(EmailRow.message_id == mid(big))) is None


async def test_non_utf8_charsets_are_read(center: Infolinia, mailbox: Mailbox) -> None:
    key = f"{uuid.uuid4().hex}@customer.example"
    raw = (
        f"From: =?iso-8859-2?q?Pawe=B3_=A3=F3dzki?= <{sender()}>\r\nTo: {mailbox.address}\r\n"
        "Subject: =?iso-8859-2?q?Za=BF=F3=B3=E6_g=EA=B6l=B1_ja=BC=F1?=\r\n"
        f"Message-ID: <{key}>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=windows-1250\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode("ascii") + "Faktura za październik jest błędna: źle naliczono opłatę.".encode("windows-1250")
    await send(mailbox.smtp, raw, mailbox.address, "p@customer.example")
    row = await processed(center, mailbox.tenant_id, key)
    assert row.subject == "Zażółć gęślą jaźń"
    assert row.body == "Faktura za październik jest błędna: źle naliczono opłatę."
    async with center.db.session() as s:
        case = await s.get(Case, row.case_id)
        customer = await s.get(Customer, row.customer_id)
    assert case is not None and case.subject == "Zażółć gęślą jaźń"
    assert customer is not None and customer.name == "Paweł Łódzki"


async def test_html_is_kept_as_safe_text(center: Infolinia, mailbox: Mailbox) -> None:
    msg = message(sender(), mailbox.address, "<b>Bold</b> subject", "plain")
    msg.set_content(
        "<html><head><style>p{color:red}</style><script>steal(document.cookie)</script></head><body>"
        "<p>Hello <b>there</b>,</p><p>my &lt;img src=x onerror=alert(1)&gt; bill</p>"
        "<img src=x onerror=alert(2)><a href='javascript:evil()'>link</a></body></html>",
        subtype="html",
    )
    await send(mailbox.smtp, msg, mailbox.address)
    row = await processed(center, mailbox.tenant_id, mid(msg))
    assert row.body is not None
    assert "steal" not in row.body and "color:red" not in row.body and "javascript" not in row.body
    assert "<p>" not in row.body and "alert(2)" not in row.body
    assert row.body.startswith("Hello there,") and "link" in row.body
    assert "<img src=x onerror=alert(1)> bill" in row.body  # what the customer typed, as text
    got = await mailbox.api.call("GET", f"/emails/{row.id}")
    assert got["body"] == row.body and got["subject"] == "<b>Bold</b> subject"  # JSON text: the UI escapes it


async def test_attachments_are_kept_with_limits(center: Infolinia, client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    msg = message(sender(), mailbox.address, "Scan attached", "See the scan.")
    pdf = b"%PDF-1.4 scan " + bytes(range(256)) * 20
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="skan faktury ż.pdf")
    msg.add_attachment(b"MZ\x90\x00", maintype="application", subtype="octet-stream", filename="../../invoice.exe")
    await send(mailbox.smtp, msg, mailbox.address)
    row = await processed(center, mailbox.tenant_id, mid(msg))
    got = await mailbox.api.call("GET", f"/emails/{row.id}")
    kept, refused = got["attachments"]
    assert kept["filename"] == "skan faktury ż.pdf" and kept["kept"] and kept["size"] == len(pdf)
    assert refused["filename"] == "invoice.exe" and not refused["kept"] and "run code" in refused["refused"]
    r = await client.get(f"/api/v1/email-attachments/{kept['id']}", headers=mailbox.api.headers)
    assert r.status_code == 200 and r.content == pdf
    assert r.headers["content-type"] == "application/octet-stream" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"].startswith("attachment;")
    await mailbox.api.refused("GET", f"/email-attachments/{refused['id']}", None, 409, "attachment_not_kept")
    assert got["body"] == "See the scan."


@pytest.mark.parametrize("raw", [
    b"this is not an e-mail at all \xff\xfe\x00 with a NUL",
    b"Subject: broken\r\nContent-Type: multipart/mixed; boundary=\"never\"\r\n\r\nno boundary ever\r\n",
    b"Subject: bad b64\r\nContent-Type: text/plain; charset=klingon\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n!!!*\r\n",
    b"From: \"unterminated <\r\nSubject: =?utf-8?q?=ZZ?=\r\nContent-Type: multipart/alternative\r\n\r\n--\r\n",
])  # fmt: skip
async def test_malformed_mime_is_stored_as_well_as_it_reads(center: Infolinia, mailbox: Mailbox, raw: bytes) -> None:
    raw = raw.replace(b"Subject: ", f"Message-ID: <{uuid.uuid4().hex}@x>\r\nSubject: ".encode(), 1)
    raw = raw + f"\r\n{uuid.uuid4().hex}\r\n".encode()  # unique bytes where there is no Message-ID
    await send(mailbox.smtp, raw, mailbox.address, "odd@customer.example")
    async with center.db.session() as s:
        row_id = await s.scalar(select(EmailRow.id).where(EmailRow.raw == raw))
    assert row_id is not None

    async def done() -> EmailRow | None:
        async with center.db.session() as s:
            row = await s.get(EmailRow, row_id)
            return row if row is not None and row.status == "processed" else None

    row = await eventually(done)
    assert row.case_id is not None and row.raw == raw


async def test_replies_thread_by_headers_and_by_the_case_tag(center: Infolinia, mailbox: Mailbox) -> None:
    who = sender()
    first = message(who, mailbox.address, "Internet is slow")
    await send(mailbox.smtp, first, mailbox.address)
    case_id = (await processed(center, mailbox.tenant_id, mid(first))).case_id
    again = message(who, mailbox.address, "Re: Internet is slow", "Still slow.", In_Reply_To=f"<{mid(first)}>",
                    References=f"<{mid(first)}>")  # fmt: skip
    await send(mailbox.smtp, again, mailbox.address)
    assert (await processed(center, mailbox.tenant_id, mid(again))).case_id == case_id
    async with center.db.session() as s:
        number = await s.scalar(select(Case.number).where(Case.id == case_id))
    tagged = message(who, mailbox.address, f"Speed [Case {number}]", "Tagged, no headers.")
    await send(mailbox.smtp, tagged, mailbox.address)
    assert (await processed(center, mailbox.tenant_id, mid(tagged))).case_id == case_id
    stranger = message(sender(), mailbox.address, f"Hijack [#{number}]", "Not the customer.")
    await send(mailbox.smtp, stranger, mailbox.address)
    assert (await processed(center, mailbox.tenant_id, mid(stranger))).case_id != case_id
    detail = await mailbox.api.call("GET", f"/cases/{case_id}")
    words = [e["body"] for e in detail["entries"] if e["kind"] == "customer_message"]
    assert words == ["Still slow.", "Tagged, no headers."]
    assert len(detail["interaction_ids"]) == 3
    async with center.db.session() as s:
        tasks = await s.scalar(
            select(func.count())
            .select_from(RoutingTask)
            .join(CaseLink, CaseLink.interaction_id == RoutingTask.interaction_id)
            .where(CaseLink.case_id == case_id)
        )
    assert tasks == 1  # the case's task still waits: no second one


async def _reply(
    center: Infolinia, mailbox: Mailbox, who: str, subject: str
) -> tuple[int, EmailMessage, dict[str, Any]]:
    first = message(who, mailbox.address, subject, "Please help.")
    await send(mailbox.smtp, first, mailbox.address)
    row = await processed(center, mailbox.tenant_id, mid(first))
    out = await mailbox.api.call("POST", f"/cases/{row.case_id}/replies", {"body": "We are on it."}, status=201)
    assert out["status"] == "pending" and out["direction"] == "out"
    assert row.case_id is not None
    return row.case_id, first, out


async def sent(center: Infolinia, mailbox: Mailbox, email_id: int, status: str = "sent") -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        center.email.outbox.wake.set()
        got: dict[str, Any] = await mailbox.api.call("GET", f"/emails/{email_id}")
        return got if got["status"] == status else None

    return await eventually(check)


async def test_a_reply_goes_out_threaded_and_the_answer_threads_back(center: Infolinia, mailbox: Mailbox) -> None:
    who = sender()
    first = message(who, mailbox.address, "Invoice wrong")
    await send(mailbox.smtp, first, mailbox.address)
    row = await processed(center, mailbox.tenant_id, mid(first))
    await mailbox.api.call("PATCH", f"/customers/{row.customer_id}", {"language": "pl"})
    out = await mailbox.api.call("POST", f"/cases/{row.case_id}/replies", {"body": "Poprawimy fakturę."}, status=201)
    await sent(center, mailbox, out["id"])
    (got,) = mailbox.sink.to(who)
    async with center.db.session() as s:
        case = await s.get(Case, row.case_id)
    assert case is not None and case.first_response_at is not None
    assert got["From"].addresses[0].addr_spec == mailbox.address and "Mail Test Help" in str(got["From"])
    assert str(got["Subject"]) == f"Re: Invoice wrong [#{case.number}]"
    assert str(got["In-Reply-To"]) == f"<{mid(first)}>" and f"<{mid(first)}>" in str(got["References"])
    assert str(got["Message-ID"]) == f"<{out['message_id']}>"
    text = got.get_content()
    assert "Poprawimy fakturę." in text and f"Numer sprawy: {case.number}" in text
    detail = await mailbox.api.call("GET", f"/cases/{row.case_id}")
    assert [e["body"] for e in detail["entries"] if e["kind"] == "message"] == ["Poprawimy fakturę."]
    assert len(detail["interaction_ids"]) == 2  # the customer's e-mail and the reply
    answer = message(who, mailbox.address, str(got["Subject"]), "Dziękuję.", In_Reply_To=str(got["Message-ID"]))
    await send(mailbox.smtp, answer, mailbox.address)
    assert (await processed(center, mailbox.tenant_id, mid(answer))).case_id == row.case_id


async def test_failed_sends_are_retried_recorded_and_can_be_sent_again(center: Infolinia, mailbox: Mailbox) -> None:
    case_id, _, later = await _reply(center, mailbox, f"later-{uuid.uuid4().hex[:8]}@customer.example", "Temp")
    temp = await eventually(lambda: _attempted(mailbox, later["id"]))
    assert temp["status"] == "pending" and "451" in temp["last_error"] and temp["next_attempt_at"]
    _, _, reject = await _reply(center, mailbox, f"reject-{uuid.uuid4().hex[:8]}@customer.example", "Perm")
    failed = await sent(center, mailbox, reject["id"], "failed")
    assert failed["attempts"] == 1 and "550" in failed["last_error"]
    listed = await mailbox.api.call("GET", "/emails?direction=out&status=failed")
    assert reject["id"] in [e["id"] for e in listed["items"]]
    again = await mailbox.api.call("POST", f"/emails/{reject['id']}/retry")
    assert again["status"] == "pending" and again["attempts"] == 0
    await mailbox.api.refused("POST", f"/emails/{later['id']}/retry", None, 409, "email_state")
    await sent(center, mailbox, reject["id"], "failed")
    assert case_id


async def _attempted(mailbox: Mailbox, email_id: int) -> dict[str, Any] | None:
    got: dict[str, Any] = await mailbox.api.call("GET", f"/emails/{email_id}")
    return got if got["attempts"] >= 1 and got["last_error"] else None


async def test_a_bounce_is_recorded_on_the_message_it_reports(center: Infolinia, mailbox: Mailbox) -> None:
    who = sender()
    case_id, _, out = await _reply(center, mailbox, who, "Will bounce")
    await sent(center, mailbox, out["id"])
    (original,) = mailbox.sink.to(who)
    original_headers = "".join(f"{k}: {v}\r\n" for k, v in original.items())
    dsn_id = f"{uuid.uuid4().hex}@customer.example"
    dsn = (
        f"From: MAILER-DAEMON@customer.example\r\nTo: {mailbox.address}\r\nMessage-ID: <{dsn_id}>\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; customer.example\r\n\r\n"
        f"Final-Recipient: rfc822; {who}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        f"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n{original_headers}\r\n--b1--\r\n"
    ).encode()
    await send(mailbox.smtp, dsn, mailbox.address, "")
    report = await processed(center, mailbox.tenant_id, dsn_id)
    assert report.status == "bounce" and report.bounce_of_id == out["id"] and report.case_id == case_id
    bounced = await mailbox.api.call("GET", f"/emails/{out['id']}")
    assert bounced["status"] == "bounced" and "5.1.1" in bounced["last_error"]
    async with center.db.session() as s:
        made = await s.scalar(select(Case.id).where(Case.tenant_id == mailbox.tenant_id,
                                                    Case.subject == "Undelivered Mail Returned to Sender"))  # fmt: skip
    assert made is None  # not a case of its own
    notes = [e for e in (await mailbox.api.call("GET", f"/cases/{case_id}"))["entries"] if e["kind"] == "note"]
    assert notes and "could not be delivered" in notes[-1]["body"] and notes[-1]["internal"]


async def test_the_automatic_acknowledgement_answers_people_not_machines(center: Infolinia, mailbox: Mailbox) -> None:
    await mailbox.api.call("PATCH", "/email/settings", {"auto_acknowledge": True})
    try:
        who, robot = sender(), sender()
        msg = message(who, mailbox.address, "Need a new SIM")
        await send(mailbox.smtp, msg, mailbox.address)
        auto = message(robot, mailbox.address, "Out of office", Auto_Submitted="auto-replied")
        await send(mailbox.smtp, auto, mailbox.address)
        row = await processed(center, mailbox.tenant_id, mid(msg))
        await processed(center, mailbox.tenant_id, mid(auto))

        async def acked() -> list[EmailMessage] | None:
            center.email.outbox.wake.set()
            return mailbox.sink.to(who) or None

        (ack,) = await eventually(acked)
        async with center.db.session() as s:
            number = await s.scalar(select(Case.number).where(Case.id == row.case_id))
        assert f"[#{number}]" in str(ack["Subject"]) and str(ack["In-Reply-To"]) == f"<{mid(msg)}>"
        assert f"case number {number}" in ack.get_content()
        assert mailbox.sink.to(robot) == []
    finally:
        await mailbox.api.call("PATCH", "/email/settings", {"auto_acknowledge": False})


async def test_settings_never_show_the_password_and_are_checked(mailbox: Mailbox, login: Login,
                                                                client: httpx.AsyncClient) -> None:  # fmt: skip
    got = await mailbox.api.call("GET", "/email/settings")
    assert got["relay"]["password_set"] is True and "password" not in got["relay"]
    assert "s3cret" not in str(got) and got["addresses"] == [mailbox.address]
    shown = {"host": "127.0.0.1", "password_set": True}  # what GET shows is not what PATCH takes
    await mailbox.api.refused("PATCH", "/email/settings", {"relay": shown}, 422, "validation_error")
    relay = {k: got["relay"][k] for k in ("host", "port", "security", "username", "timeout_s")}
    kept = await mailbox.api.call("PATCH", "/email/settings", {"relay": relay})  # password left out: kept
    assert kept["relay"]["password_set"] is True
    await mailbox.api.refused("PATCH", "/email/settings", {"queue_id": 999999}, 422, "validation_error")
    await mailbox.api.refused("PATCH", "/email/settings", {"relay": {"host": "bad host;rm"}}, 422, "validation_error")
    await mailbox.api.refused("PATCH", "/email/settings", {"addresses": ["not-an-address"]}, 422, "validation_error")
    acme = TenantApi(client, await login("admin@acme.test"))
    await acme.refused("PATCH", "/email/settings", {"addresses": [mailbox.address]}, 409, "address_taken")


async def test_other_tenants_never_see_the_mail(center: Infolinia, mailbox: Mailbox, login: Login,
                                                client: httpx.AsyncClient) -> None:  # fmt: skip
    msg = message(sender(), mailbox.address, "Private matter")
    await send(mailbox.smtp, msg, mailbox.address)
    row = await processed(center, mailbox.tenant_id, mid(msg))
    acme = TenantApi(client, await login("admin@acme.test"))
    await acme.refused("GET", f"/emails/{row.id}", None, 404, "not_found")
    await acme.refused("GET", f"/cases/{row.case_id}/emails", None, 404, "not_found")
    await acme.refused("POST", f"/cases/{row.case_id}/replies", {"body": "x"}, 404, "not_found")
    listed = await acme.call("GET", "/emails?limit=200")
    assert row.id not in [e["id"] for e in listed["items"]]
    async with center.db.session() as s:
        first = await s.scalar(select(EmailAttachment.id).where(EmailAttachment.tenant_id == mailbox.tenant_id))
    if first is not None:
        await acme.refused("GET", f"/email-attachments/{first}", None, 404, "not_found")


async def test_a_reply_needs_a_relay_and_a_recipient(center: Infolinia, login: Login,
                                                     client: httpx.AsyncClient) -> None:  # fmt: skip
    acme = TenantApi(client, await login("admin@acme.test"))
    case = await acme.call("POST", "/cases", {"subject": "No mail here", "category": "question"}, status=201)
    await acme.refused("POST", f"/cases/{case['id']}/replies", {"body": "Hi"}, 409, "no_recipient")
    await acme.refused("POST", f"/cases/{case['id']}/replies", {"body": ""}, 422, "validation_error")


async def test_export_shows_and_erasure_removes_the_customers_mail(center: Infolinia, mailbox: Mailbox) -> None:
    msg = message(sender(), mailbox.address, "Personal details", "My PESEL is 00000000000.")
    msg.add_attachment(b"%PDF-1.4 id card", maintype="application", subtype="pdf", filename="id.pdf")
    await send(mailbox.smtp, msg, mailbox.address)
    row = await processed(center, mailbox.tenant_id, mid(msg))
    out = await mailbox.api.call("POST", f"/cases/{row.case_id}/replies", {"body": "Noted."}, status=201)
    got = await mailbox.api.call("GET", f"/emails/{row.id}")
    path = center.email.files.path(f"email/{mailbox.tenant_id}/{row.id}/1")
    assert got["attachments"][0]["kept"] and path.is_file()
    exported = await mailbox.api.call("GET", f"/customers/{row.customer_id}/export")
    bodies = [e["body"] for e in exported["emails"]]
    assert "My PESEL is 00000000000." in bodies and exported["emails"][0]["attachments"][0]["filename"] == "id.pdf"
    await mailbox.api.call("POST", f"/customers/{row.customer_id}/erase", {"reason": "asked"})
    erased = await mailbox.api.call("GET", f"/emails/{row.id}")
    assert erased["body"] is None and erased["subject"] is None and erased["from_address"] is None
    assert erased["attachments"] == [] and not path.exists()
    reply = await mailbox.api.call("GET", f"/emails/{out['id']}")
    assert reply["to_address"] is None and reply["body"] is None
    async with center.db.session() as s:
        assert (await s.get(EmailRow, row.id)).raw is None  # type: ignore[union-attr]


async def test_one_message_to_two_tenants_is_stored_once_for_each(center: Infolinia, mailbox: Mailbox) -> None:
    slug = f"mail{uuid.uuid4().hex[:8]}"
    other_address = f"office@{slug}.test"
    async with write(center.db, None, SYSTEM) as tx:
        other = await create_tenant(tx, TenantIn(slug=slug, name="Other Mail Test"))
        tx.session.add(EmailAddress(tenant_id=other.id, address=other_address))
    msg = message(sender(), f"{mailbox.address}, {other_address}", "To both of you")
    await asyncio.to_thread(send_raw, mailbox.smtp, "x@customer.example", [mailbox.address, other_address],
                            msg.as_bytes(policy=policy.SMTP))  # fmt: skip
    mine = await processed(center, mailbox.tenant_id, mid(msg))
    theirs = await processed(center, other.id, mid(msg))
    assert mine.id != theirs.id and mine.to_address == mailbox.address and theirs.to_address == other_address
    async with center.db.session() as s:
        case = await s.get(Case, theirs.case_id)
        customer = await s.get(Customer, theirs.customer_id)
    assert case is not None and case.tenant_id == other.id and customer is not None and customer.tenant_id == other.id
    assert mine.customer_id != theirs.customer_id
    listed = await mailbox.api.call("GET", "/emails?limit=200&direction=in")
    assert theirs.id not in [e["id"] for e in listed["items"]]
    await mailbox.api.refused("GET", f"/emails/{theirs.id}", None, 404, "not_found")


async def test_the_agent_who_accepts_an_emails_task_gets_its_case(
    center: Infolinia, client: httpx.AsyncClient, login: Login
) -> None:
    slug = f"mail{uuid.uuid4().hex[:8]}"
    address, agent_email = f"desk@{slug}.test", f"agent@{slug}.test"
    async with write(center.db, None, SYSTEM) as tx:
        tenant = await create_tenant(tx, TenantIn(slug=slug, name="Desk Mail Test"))
        queue = await create_queue(tx, tenant.id, QueueIn(name="E-mail", business_hours=False))
        tx.session.add(EmailAddress(tenant_id=tenant.id, address=address))
        tenant.email_settings = {"queue_id": queue.id}
        agent = await create_user(tx, tenant.id, UserIn(email=agent_email, display_name="Agent", role=Role.AGENT,
                                                        password="demo"), min_password_length=0)  # fmt: skip
        await set_profile(tx, agent, tenant, AgentProfileIn())
    await center.routing.reload_queues([queue.id])
    await center.routing.reload_agents([agent.id])
    assert center.email.address is not None
    msg = message(sender(), address, "Please call me back")
    await send(center.email.address, msg, address)
    row = await processed(center, tenant.id, mid(msg))
    desk = TenantApi(client, await login(agent_email))
    await desk.call("PUT", "/me/presence", {"presence": "ready"})
    try:
        async with center.db.session() as s:
            task_id = await s.scalar(select(Case.routing_task_id).where(Case.id == row.case_id))

        async def offered() -> bool:
            return bool((await desk.call("GET", f"/tasks/{task_id}"))["state"] == "reserved")

        await eventually(offered)
        await desk.call("POST", f"/tasks/{task_id}/accept")
        case = await desk.call("GET", f"/cases/{row.case_id}")
        assert case["assignee_id"] == agent.id and case["status"] == "open"
        await desk.call("POST", f"/tasks/{task_id}/complete")
    finally:
        await desk.call("PUT", "/me/presence", {"presence": "offline"})
