"""Sending what the outbox holds: every ``pending`` message whose time has come goes to its tenant's SMTP relay
(stdlib ``smtplib`` in a worker thread: STARTTLS, implicit TLS, login). Each attempt is claimed in the database
first (attempts counted, the next try set a lease ahead), so a process that dies mid-send tries again after the
lease and two processes never send the same attempt. A refusal the relay calls permanent (5xx), or the last of
``MAX_ATTEMPTS``, fails the message (recorded on it, and a note on its case); anything else is retried later."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
from datetime import datetime, timedelta

from sqlalchemy import select, update

from infolinia.cases import actions as cases
from infolinia.channels.email.settings import EmailSettings, Relay
from infolinia.events import EventBus
from infolinia.store.db import Database
from infolinia.store.models import Case, EmailMessage, Tenant
from infolinia.store.types import utcnow
from infolinia.store.uow import Who, write

log = logging.getLogger(__name__)
WHO = Who(None, "email")
MAX_ATTEMPTS = 6
#: wait before attempt n+1 (after n failed ones)
BACKOFF_S = (30, 120, 600, 1800, 3600)
#: how long an attempt is held by the process that claimed it (sending takes at most the relay's timeout)
LEASE = timedelta(minutes=5)


class PermanentFailure(Exception):
    """The relay refused the message for good."""


def send_now(relay: Relay, mail_from: str, to: str, raw: bytes) -> None:
    """Hand ``raw`` to the relay (blocking: run in a thread). Raises ``PermanentFailure`` on a 5xx refusal."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if relay.security == "tls":
        client = smtplib.SMTP_SSL(relay.host, relay.port, timeout=relay.timeout_s, context=context)
    else:
        client = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout_s)
    try:
        client.ehlo()
        if relay.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if relay.username:
            client.login(relay.username, relay.password or "")
        client.sendmail(mail_from, [to], raw)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
        raise
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
            raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        raise
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


class Outbox:
    def __init__(self, db: Database, bus: EventBus | None) -> None:
        self.db = db
        self.bus = bus
        self.wake = asyncio.Event()

    async def run(self, interval_s: float = 15.0) -> None:
        """Forever: send what is due; sleep until woken (a message queued) or ``interval_s`` passes."""
        while True:
            try:
                while await self.send_due():
                    pass
            except Exception:
                log.exception("sending e-mail failed")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), interval_s)

    async def send_due(self, now: datetime | None = None, limit: int = 20) -> int:
        """One round: every due message (up to ``limit``) sent or rescheduled; how many were tried."""
        now = now or utcnow()
        async with self.db.session() as s:
            due = list((await s.execute(
                select(EmailMessage.id, EmailMessage.attempts).where(
                    EmailMessage.direction == "out", EmailMessage.status == "pending",
                    EmailMessage.next_attempt_at <= now,
                ).order_by(EmailMessage.next_attempt_at, EmailMessage.id).limit(limit)
            )).all())  # fmt: skip
        tried = 0
        for row_id, attempts in due:
            if await self._claim(row_id, attempts, now):
                tried += 1
                await self._attempt(row_id)
        return tried

    async def _claim(self, row_id: int, attempts: int, now: datetime) -> bool:
        async with write(self.db, None, WHO) as tx:
            claim = update(EmailMessage).where(
                EmailMessage.id == row_id, EmailMessage.status == "pending", EmailMessage.attempts == attempts
            )
            done = await tx.session.execute(
                claim.values(attempts=attempts + 1, next_attempt_at=now + LEASE)
                .execution_options(synchronize_session=False)
            )  # fmt: skip
            return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    async def _attempt(self, row_id: int) -> None:
        async with self.db.session() as s:
            row = await s.get(EmailMessage, row_id)
            assert row is not None
            tenant = await s.get(Tenant, row.tenant_id)
            assert tenant is not None
            settings = EmailSettings.of(tenant.email_settings)
            relay, raw, attempts = settings.relay, row.raw or b"", row.attempts
            mail_from, to = row.from_address or "", row.to_address or ""
        error: str | None = None
        permanent = False
        if relay is None:
            error = "the tenant has no SMTP relay"
        else:
            try:
                await asyncio.to_thread(send_now, relay, mail_from, to, raw)
            except PermanentFailure as exc:
                error, permanent = str(exc), True
            except (smtplib.SMTPException, OSError) as exc:
                error = f"{exc.__class__.__name__}: {exc}"
        await self._record(row_id, error, permanent or attempts >= MAX_ATTEMPTS, attempts)

    async def _record(self, row_id: int, error: str | None, final: bool, attempts: int) -> None:
        async with write(self.db, self.bus, WHO) as tx:
            row = await tx.session.get(EmailMessage, row_id)
            assert row is not None
            now = utcnow()
            if error is None:
                row.status, row.done_at, row.next_attempt_at, row.last_error = "sent", now, None, None
                tx.emit("email.sent", row.tenant_id, id=row.id, case_id=row.case_id, status=row.status)
                return
            row.last_error = error[:1000]
            if not final:
                row.next_attempt_at = now + timedelta(seconds=BACKOFF_S[min(attempts, len(BACKOFF_S)) - 1])
                log.info("e-mail %d: attempt %d failed (%s); trying again later", row.id, attempts, error)
                return
            row.status, row.done_at, row.next_attempt_at = "failed", now, None
            tx.audit(row.tenant_id, "email.failed", "email", row.id, attempts=attempts)
            tx.emit("email.failed", row.tenant_id, id=row.id, case_id=row.case_id, status=row.status)
            if row.case_id is not None:
                case = await tx.session.get(Case, row.case_id)
                tenant = await tx.session.get(Tenant, row.tenant_id)
                if case is not None and tenant is not None and case.merged_into_id is None:
                    note = f"The e-mail to {row.to_address} could not be sent: {error}"
                    await cases.add_entry(tx, tenant, case, note[:20_000], internal=True)
