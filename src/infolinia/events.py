"""In-process event bus. Events are published only after the transaction that caused them commits."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from infolinia.store.types import utcnow


@dataclass(frozen=True)
class Event:
    """``type`` is ``<object>.<verb>`` (``customer.updated``, ``consent.changed``); ``tenant_id`` scopes who sees it."""

    type: str
    tenant_id: int | None
    data: dict[str, Any]
    seq: int = 0
    at: str = field(default_factory=lambda: utcnow().isoformat())

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.type,
            "tenant_id": self.tenant_id,
            "at": self.at,
            "data": self.data,
        }


Check = Callable[[Event], None]
Wanted = Callable[[Event], bool]


class EventBus:
    """Fan-out to subscriber queues. A slow subscriber loses events and is told so (``overflowed``).

    ``check``, when given, sees every event before it is stamped and raises if it is malformed (the test suite and
    ``INFOLINIA_VALIDATE_EVENTS`` hold every event to its schema this way)."""

    def __init__(self, check: Check | None = None) -> None:
        self._subscribers: set[Subscription] = set()
        self._seq = itertools.count(1)
        self._check = check
        self.last_seq = 0  # the sequence number of the newest event published (0: none yet)

    def publish(self, event: Event) -> Event:
        if self._check is not None:
            self._check(event)
        self.last_seq = next(self._seq)
        stamped = Event(event.type, event.tenant_id, event.data, seq=self.last_seq, at=event.at)
        for sub in list(self._subscribers):
            sub.offer(stamped)
        return stamped

    @contextmanager
    def subscribe(self, maxsize: int = 10_000, wanted: Wanted | None = None) -> Iterator[Subscription]:
        """Receive the events published from now on; only those ``wanted`` accepts count against ``maxsize``."""
        sub = Subscription(maxsize, wanted)
        self._subscribers.add(sub)
        try:
            yield sub
        finally:
            self._subscribers.discard(sub)


class Subscription:
    def __init__(self, maxsize: int, wanted: Wanted | None = None) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.overflowed = False
        self._wanted = wanted

    def offer(self, event: Event) -> None:
        if self._wanted is not None and not self._wanted(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    async def get(self) -> Event:
        return await self.queue.get()
