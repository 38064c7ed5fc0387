"""Taking a message in: committed to the database (its raw bytes and the headers it is found by) before the
listener answers 250, once per tenant and Message-ID. A message accepted before is answered 250 again and not
stored again. What it becomes (customer, contact, case, task) is made afterwards by ``process``, from the row."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from infolinia.channels.email import mime
from infolinia.store.db import Database
from infolinia.store.models import EmailMessage

#: messages larger than this are read in a worker thread, not on the event loop
PARSE_IN_THREAD = 256 * 1024
#: at most this many messages in one transaction
MAX_BATCH = 200


@dataclass(frozen=True)
class Stored:
    """What happened to a message, per tenant it was for: the row id, and whether it was new."""

    rows: list[tuple[int, bool]]

    @property
    def new(self) -> int:
        return sum(1 for _, fresh in self.rows if fresh)


@dataclass
class _Waiting:
    mail_from: str
    tenants: dict[int, str]
    raw: bytes
    parsed: mime.Parsed
    key: str
    done: asyncio.Future[Stored]


class Ingest:
    """Stores messages with group commit: the messages that arrive while a transaction commits are written
    together in the next one, and each sender is answered once the transaction holding its message committed."""

    def __init__(self, db: Database, on_stored: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_stored = on_stored
        self.last_store = 0.0  # monotonic time of the latest commit (the processing worker gives way meanwhile)
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def store(self, mail_from: str, recipients: Sequence[tuple[str, int]], raw: bytes) -> Stored:
        """Commit ``raw`` for every tenant among ``recipients`` ((address, tenant id), as the listener took them at
        RCPT) that has not got it yet. Returns once committed."""
        if len(raw) > PARSE_IN_THREAD:
            parsed = await asyncio.to_thread(mime.parse, raw)
        else:
            parsed = mime.parse(raw)
        tenants: dict[int, str] = {}
        for address, tenant_id in recipients:
            tenants.setdefault(tenant_id, address)
        done: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(mail_from, tenants, raw, parsed, mime.message_key(raw, parsed), done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="email-ingest")
        stored = await done
        if stored.new and self.on_stored is not None:
            self.on_stored()
        return stored

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                results = await self._insert(batch)
            except Exception:  # one bad message, or the same one committed at this moment elsewhere: one by one
                for one in batch:
                    await self._alone(one)
            else:
                for one, result in zip(batch, results, strict=True):
                    if not one.done.done():
                        one.done.set_result(result)
            self.last_store = time.monotonic()

    async def _alone(self, one: _Waiting) -> None:
        for attempt in range(3):
            try:
                (result,) = await self._insert([one])
            except IntegrityError as exc:  # committed at this moment by another connection: found next time
                if attempt == 2 and not one.done.done():
                    one.done.set_exception(exc)
                continue
            except Exception as exc:
                if not one.done.done():
                    one.done.set_exception(exc)
                return
            if not one.done.done():
                one.done.set_result(result)
            return

    async def _insert(self, batch: list[_Waiting]) -> list[Stored]:
        keys = {one.key for one in batch}
        tenant_ids = {tenant for one in batch for tenant in one.tenants}
        async with self.db.session() as s, s.begin():
            found = await s.execute(
                select(EmailMessage.tenant_id, EmailMessage.message_id, EmailMessage.id)
                .where(EmailMessage.message_id.in_(keys), EmailMessage.tenant_id.in_(tenant_ids))
            )  # fmt: skip
            known: dict[tuple[int, str], int | EmailMessage] = {(t, k): i for t, k, i in found.all()}
            rows: list[list[tuple[int | EmailMessage, bool]]] = []
            for one in batch:
                mine: list[tuple[int | EmailMessage, bool]] = []
                for tenant_id, address in one.tenants.items():
                    if (tenant_id, one.key) in known:
                        mine.append((known[(tenant_id, one.key)], False))
                        continue
                    row = EmailMessage(
                        tenant_id=tenant_id, direction="in", status="received", message_id=one.key,
                        mail_from=one.mail_from[:254] or None, from_address=one.parsed.from_address,
                        to_address=address[:254], subject=one.parsed.subject or None,
                        in_reply_to=one.parsed.in_reply_to, reference_ids=one.parsed.references, raw=one.raw,
                        problems=[],
                    )  # fmt: skip
                    s.add(row)
                    known[(tenant_id, one.key)] = row
                    mine.append((row, True))
                rows.append(mine)
            await s.flush()
        return [Stored([(_id(row), new) for row, new in mine]) for mine in rows]


def _id(row: int | EmailMessage) -> int:
    return row if isinstance(row, int) else row.id
