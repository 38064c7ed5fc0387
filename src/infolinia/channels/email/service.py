"""The e-mail channel as the process runs it: the SMTP listener, the worker that processes what was accepted (on
start it first takes everything a stopped process left ``received``), and the outbox. Built by ``app.py``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from datetime import timedelta

from sqlalchemy import or_, select

from infolinia.cases.actions import Moves
from infolinia.channels.email.addresses import AddressBook
from infolinia.channels.email.attachments import AttachmentStore
from infolinia.channels.email.ingest import Ingest
from infolinia.channels.email.listener import Handler, listen, smtp_socket
from infolinia.channels.email.outbox import WHO, Outbox
from infolinia.channels.email.process import process
from infolinia.config import Settings
from infolinia.events import EventBus
from infolinia.routing.service import RoutingService
from infolinia.store.db import Database
from infolinia.store.models import EmailMessage
from infolinia.store.types import utcnow
from infolinia.store.uow import write

log = logging.getLogger(__name__)
#: processing a message that failed is tried this many times, then it is left as ``error`` (shown by the API)
MAX_PROCESS_ATTEMPTS = 3
#: while messages were stored this recently, the worker waits this long between two messages (accepting mail,
#: which the sender waits for, goes first; processing catches up when the burst is over)
GIVE_WAY_S = 0.05
GIVE_WAY_ROUNDS = 4


class EmailService:
    def __init__(self, settings: Settings, db: Database, bus: EventBus | None, routing: RoutingService) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.routing = routing
        self.addresses = AddressBook(db)
        self.files = AttachmentStore(settings.data_dir, settings.email_attachment_max_bytes)
        self.arrived = asyncio.Event()
        self.ingest = Ingest(db, self.arrived.set)
        self.handler = Handler(self.addresses, self.ingest)
        self.outbox = Outbox(db, bus)
        self.address: tuple[str, int] | None = None  # where SMTP listens once started
        self._server: asyncio.AbstractServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.processed = 0

    async def start(self, sock: socket.socket | None = None) -> None:
        self._tasks = [
            asyncio.create_task(self.run_processing(), name="email-processing"),
            asyncio.create_task(self.outbox.run(), name="email-outbox"),
        ]
        if sock is None and not self.settings.smtp:
            return
        sock = sock or smtp_socket(self.settings.host, self.settings.smtp_port)
        self._server = await listen(self.handler, sock, self.settings.smtp_max_bytes, "infolinia")
        self.address = sock.getsockname()[:2]
        log.info("SMTP listening on %s:%d", *self.address)

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_processing(self, interval_s: float = 10.0) -> None:
        """Forever: process what was accepted, oldest first; wait for more (or ``interval_s``, for rows another
        process accepted)."""
        while True:
            self.arrived.clear()
            try:
                while await self.process_pending():
                    pass
            except Exception:
                log.exception("processing e-mail failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), interval_s)

    async def process_pending(self, limit: int = 200) -> int:
        """One round over the accepted messages; how many were processed."""
        now = utcnow()
        async with self.db.session() as s:
            ids = list(await s.scalars(
                select(EmailMessage.id).where(
                    EmailMessage.direction == "in", EmailMessage.status == "received",
                    or_(EmailMessage.next_attempt_at.is_(None), EmailMessage.next_attempt_at <= now),
                ).order_by(EmailMessage.id).limit(limit)
            ))  # fmt: skip
        done = 0
        for row_id in ids:
            done += await self.process_one(row_id)
            await self._give_way()
        return done

    async def _give_way(self) -> None:
        """While a burst arrives, pause between two messages (at most ``GIVE_WAY_ROUNDS`` times ``GIVE_WAY_S``, so
        processing still moves under endless load)."""
        for _ in range(GIVE_WAY_ROUNDS):
            if time.monotonic() - self.ingest.last_store >= GIVE_WAY_S:
                return
            await asyncio.sleep(GIVE_WAY_S)

    async def process_one(self, row_id: int) -> bool:
        moves = Moves()
        try:
            async with write(self.db, self.bus, WHO) as tx:
                row = await tx.session.get(EmailMessage, row_id)
                if row is None or row.status != "received":
                    return False
                if not await process(tx, row, self.files, moves):
                    return False
        except Exception as exc:
            log.exception("e-mail %d could not be processed", row_id)
            await self._failed(row_id, exc)
            return False
        self.processed += 1
        if moves.route or moves.withdraw:
            await moves.apply(self.routing)
        self.outbox.wake.set()
        return True

    async def _failed(self, row_id: int, exc: Exception) -> None:
        async with write(self.db, None, WHO) as tx:
            row = await tx.session.get(EmailMessage, row_id)
            if row is None or row.status != "received":
                return
            row.attempts += 1
            row.last_error = f"{exc.__class__.__name__}: {exc}"[:1000]
            if row.attempts >= MAX_PROCESS_ATTEMPTS:
                row.status, row.next_attempt_at = "error", None
            else:
                row.next_attempt_at = utcnow() + timedelta(seconds=60 * row.attempts)
