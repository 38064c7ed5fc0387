"""Taking a message in: committed to the database (its raw bytes and the headers it is found by) before the
listener answers 250, once per tenant and Message-ID. A message accepted before is answered 250 again and not
stored again. What it becomes (customer, contact, case, task) is made afterwards by ``process``, from the row."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from infolinia.channels.email import mime
from infolinia.store.db import Database
from infolinia.store.models import EmailMessage

#: messages larger than this are read in a worker thread, not on the event loop
PARSE_IN_THREAD = 256 * 1024


@dataclass(frozen=True)
class Stored:
    """What happened to a message, per tenant it was for: the row id, and whether it was new."""

    rows: list[tuple[int, bool]]

    @property
    def new(self) -> int:
        return sum(1 for _, fresh in self.rows if fresh)


class Ingest:
    def __init__(self, db: Database, on_stored: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_stored = on_stored

    async def store(self, mail_from: str, recipients: Sequence[tuple[str, int]], raw: bytes) -> Stored:
        """Commit ``raw`` for every tenant among ``recipients`` ((address, tenant id), as the listener took them at
        RCPT) that has not got it yet. Returns once committed."""
        if len(raw) > PARSE_IN_THREAD:
            parsed = await asyncio.to_thread(mime.parse, raw)
        else:
            parsed = mime.parse(raw)
        key = mime.message_key(raw, parsed)
        tenants: dict[int, str] = {}
        for address, tenant_id in recipients:
            tenants.setdefault(tenant_id, address)
        for attempt in range(3):
            try:
                stored = await self._insert(mail_from, tenants, raw, parsed, key)
                break
            except IntegrityError:  # the same message committed at this moment by another connection
                if attempt == 2:
                    raise
        if stored.new and self.on_stored is not None:
            self.on_stored()
        return stored

    async def _insert(
        self, mail_from: str, tenants: dict[int, str], raw: bytes, parsed: mime.Parsed, key: str
    ) -> Stored:
        async with self.db.session() as s, s.begin():
            existing: dict[int, int] = dict(
                (await s.execute(
                    select(EmailMessage.tenant_id, EmailMessage.id)
                    .where(EmailMessage.message_id == key, EmailMessage.tenant_id.in_(tenants))
                )).all()
            )  # fmt: skip
            rows: list[tuple[int, bool]] = []
            fresh: list[EmailMessage] = []
            for tenant_id, address in tenants.items():
                if tenant_id in existing:
                    rows.append((existing[tenant_id], False))
                    continue
                row = EmailMessage(
                    tenant_id=tenant_id, direction="in", status="received", message_id=key,
                    mail_from=mail_from[:254] or None, from_address=parsed.from_address, to_address=address[:254],
                    subject=parsed.subject or None, in_reply_to=parsed.in_reply_to, reference_ids=parsed.references,
                    raw=raw, problems=[],
                )  # fmt: skip
                s.add(row)
                fresh.append(row)
            await s.flush()
            rows.extend((row.id, True) for row in fresh)
        return Stored(rows)
