"""1,000 messages sent over SMTP to the real server process, which is killed with SIGKILL in the middle of the
burst, then started again: every message that was answered 250 exists exactly once and was made into its contact
and case after the restart; sent once more (as a sending server retries what it has no 250 for, and here even
what it has), the whole burst is stored exactly once."""

from __future__ import annotations

import asyncio
import smtplib
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from sqlalchemy import func, select

from infolinia.store.db import Database
from infolinia.store.models import EmailMessage as EmailRow
from tests.live import free_port, running_server

MESSAGES = 1000
CLIENTS = 4
KILL_AFTER = 300  # accepted messages


def burst(port: int, messages: list[tuple[str, bytes]], accepted: list[str], stop: threading.Event) -> None:
    """Send ``messages`` (Message-ID, bytes) over one connection, in order; record the ids answered 250."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            for key, raw in messages:
                if stop.is_set():
                    return
                client.sendmail("burst@customer.example", ["support@demo.test"], raw)
                accepted.append(key)
    except (smtplib.SMTPException, OSError):
        return  # the server was killed: what has no 250 is the sender's to try again


def make(n: int, run: str) -> list[tuple[str, bytes]]:
    out = []
    for i in range(n):
        msg = EmailMessage()
        msg["From"] = f"Customer {i % 50} <burst{i % 50}-{run}@customer.example>"
        msg["To"] = "support@demo.test"
        msg["Subject"] = f"Burst {i}"
        key = f"burst-{run}-{i}@customer.example"
        msg["Message-ID"] = f"<{key}>"
        msg.set_content(f"Message {i} of the burst.\n" * 5)
        out.append((key, msg.as_bytes(policy=SMTP)))
    return out


def start(port: int, messages: list[tuple[str, bytes]]) -> tuple[list[threading.Thread], list[str]]:
    """The burst from ``CLIENTS`` connections at once; the threads and the ids answered 250 so far."""
    accepted: list[str] = []
    stop = threading.Event()
    shares = [messages[i::CLIENTS] for i in range(CLIENTS)]
    threads = [threading.Thread(target=burst, args=(port, share, accepted, stop)) for share in shares]
    for thread in threads:
        thread.start()
    return threads, accepted


def join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(timeout=120)


async def counts(url: str, run: str) -> dict[str, tuple[int, int, int]]:
    """Message-ID -> (rows, rows processed, rows with a case and a contact)."""
    db = Database(url)
    try:
        async with db.session() as s:
            rows = await s.execute(
                select(
                    EmailRow.message_id, func.count(), func.count(EmailRow.done_at),
                    func.count(EmailRow.case_id) + func.count(EmailRow.interaction_id),
                ).where(EmailRow.message_id.like(f"burst-{run}-%")).group_by(EmailRow.message_id)
            )  # fmt: skip
            return {key: (n, done, linked // 2) for key, n, done, linked in rows}
    finally:
        await db.dispose()


async def settled(url: str, run: str, expect: int, within: float = 240) -> dict[str, tuple[int, int, int]]:
    deadline = time.monotonic() + within
    while True:
        found = await counts(url, run)
        if len(found) >= expect and all(done == n for n, done, _ in found.values()):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not processed in time: {len(found)} rows")
        await asyncio.sleep(0.5)


def test_kill_9_mid_burst_loses_and_doubles_nothing(fresh_db_url: Callable[[], Awaitable[str]], tmp_path: Path) -> None:
    url = asyncio.run(fresh_db_url())
    run = uuid.uuid4().hex[:8]
    messages = make(MESSAGES, run)
    port = free_port()
    with running_server(url, tmp_path, "--smtp-port", str(port)) as live:
        threads, accepted = start(port, messages)
        while len(accepted) < KILL_AFTER and any(t.is_alive() for t in threads):
            time.sleep(0.001)
        live.kill()
        join(threads)
    assert KILL_AFTER <= len(accepted) < MESSAGES, len(accepted)
    before = asyncio.run(counts(url, run))
    print(f"killed after {len(accepted)} accepted; {sum(1 for n, done, _ in before.values() if not done)} unprocessed")
    with running_server(url, tmp_path, "--smtp-port", str(port)) as live:
        found = asyncio.run(settled(url, run, len(accepted)))
        for key in accepted:
            assert found.get(key, (0, 0, 0)) == (1, 1, 1), (key, found.get(key))
        assert all(n == 1 for n, _, _ in found.values())  # nor any message that had no 250 twice
        threads, again = start(port, messages)  # the sender tries everything again
        join(threads)
        assert len(again) == MESSAGES
        found = asyncio.run(settled(url, run, MESSAGES))
        assert set(found) == {key for key, _ in messages}
        assert all(value == (1, 1, 1) for value in found.values())
        assert "Traceback" not in live.output()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
