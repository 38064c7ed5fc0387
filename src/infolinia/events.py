"""In-process event bus. Events are published only after the transaction that caused them commits."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
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


class EventBus:
    """Fan-out to subscriber queues. A slow subscriber loses events and is told so (``overflowed``)."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self._seq = itertools.count(1)

    def publish(self, event: Event) -> Event:
        stamped = Event(event.type, event.tenant_id, event.data, seq=next(self._seq), at=event.at)
        for sub in list(self._subscribers):
            sub.offer(stamped)
        return stamped

    @contextmanager
    def subscribe(self, maxsize: int = 10_000) -> Iterator[Subscription]:
        sub = Subscription(maxsize)
        self._subscribers.add(sub)
        try:
            yield sub
        finally:
            self._subscribers.discard(sub)


class Subscription:
    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.overflowed = False

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    async def get(self) -> Event:
        return await self.queue.get()
