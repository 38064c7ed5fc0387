"""The SMTP listener (aiosmtpd, on the process's event loop): mail the companies' servers forward to us. A
recipient that is no tenant's address is refused at RCPT (550); a message above the size limit is refused with
552 (the limit is announced in EHLO SIZE); a message is answered 250 only once it is committed (``ingest``), and a
database failure is answered 451 so the sender tries again later. Bad input never ends the listener."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from infolinia.channels.email.addresses import AddressBook
from infolinia.channels.email.ingest import Ingest

log = logging.getLogger(__name__)
MAX_RECIPIENTS = 100


class Handler:
    """aiosmtpd's hooks: RCPT maps the address to its tenant; DATA stores the message."""

    def __init__(self, addresses: AddressBook, ingest: Ingest) -> None:
        self.addresses = addresses
        self.ingest = ingest
        self.accepted = 0
        self.duplicates = 0
        self.refused = 0
        self.failed = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            tenant_id = await self.addresses.tenant_of(address)
        except Exception:
            log.exception("looking up recipient %r failed", address)
            return "451 4.3.0 Temporary failure, try again later"
        if tenant_id is None:
            self.refused += 1
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        recipients: list[tuple[str, int]] = getattr(envelope, "tenants", [])
        recipients.append((address, tenant_id))
        envelope.tenants = recipients  # type: ignore[attr-defined]
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw or "").encode("utf-8", "surrogateescape")
        recipients: list[tuple[str, int]] = getattr(envelope, "tenants", [])
        try:
            stored = await self.ingest.store(envelope.mail_from or "", recipients, raw)
        except Exception:
            self.failed += 1
            log.exception("storing a message from %r failed", envelope.mail_from)
            return "451 4.3.0 Temporary failure, try again later"
        self.accepted += stored.new
        self.duplicates += len(stored.rows) - stored.new
        ids = ",".join(str(row_id) for row_id, _ in stored.rows)
        return f"250 2.0.0 OK: stored as {ids}"

    def stats(self) -> dict[str, int]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "refused_recipients": self.refused,
                "failed": self.failed}  # fmt: skip


def smtp_socket(host: str, port: int) -> socket.socket:
    """The listening TCP socket (port 0: a free one)."""
    sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET,
                                reuse_port=False, backlog=256)  # fmt: skip
    sock.setblocking(False)
    return sock


async def listen(handler: Handler, sock: socket.socket, max_bytes: int, hostname: str) -> asyncio.AbstractServer:
    """Serve SMTP on ``sock`` in the running event loop."""

    def protocol() -> Any:
        return SMTP(handler, data_size_limit=max_bytes, enable_SMTPUTF8=True, decode_data=False, hostname=hostname,
                    ident="infolinia ESMTP", timeout=300, loop=asyncio.get_running_loop())  # fmt: skip

    return await asyncio.get_running_loop().create_server(protocol, sock=sock)
