"""Real SMTP in tests: sending to the listener with smtplib (in a thread, so the server's loop keeps running), a
relay sink (aiosmtpd in a thread of its own) standing for a tenant's SMTP relay, and building messages."""

from __future__ import annotations

import asyncio
import smtplib
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, TypeVar

from aiosmtpd.controller import Controller

T = TypeVar("T")


def message(
    sender: str, to: str, subject: str, body: str = "Hello", *, message_id: str | None = None, **headers: str
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{message_id or uuid.uuid4().hex + '@customer.example'}>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def send_raw(address: tuple[str, int], mail_from: str, rcpts: list[str], raw: bytes) -> dict[str, Any]:
    """Blocking: one SMTP session that sends ``raw``; smtplib's refusals are raised."""
    with smtplib.SMTP(*address, timeout=30) as client:
        return client.sendmail(mail_from, rcpts, raw)


async def send(address: tuple[str, int], raw: bytes | EmailMessage, rcpt: str, mail_from: str = "") -> None:
    data = raw.as_bytes(policy=policy.SMTP) if isinstance(raw, EmailMessage) else raw
    if not mail_from and isinstance(raw, EmailMessage):
        mail_from = str(raw["From"]).split("<")[-1].rstrip(">")
    await asyncio.to_thread(send_raw, address, mail_from, [rcpt], data)


async def eventually(check: Callable[[], Awaitable[T | None]], within: float = 20.0) -> T:
    """Poll ``check`` until it returns something other than None or False."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value is not None and value is not False:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@dataclass
class Sink:
    """What the relay took: (envelope sender, recipients, parsed message). Recipients starting ``reject`` are
    refused for good (550), ``later`` for now (451)."""

    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("reject"):
            return "550 5.1.1 No such user"
        if address.startswith("later"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [msg for _, rcpts, msg in self.received if address in rcpts]


def start_sink(port: int) -> tuple[Sink, Controller]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return sink, controller
