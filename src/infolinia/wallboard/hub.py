"""Boards kept fresh and shared: however many wallboards are open, a tenant's board is computed at most once per
``min_interval_s`` (and one computation at a time); every viewer asking meanwhile gets the same board.

A viewer asks for a board that includes the event it just received (its ``seq``). A board remembers the bus's
``last_seq`` from before it started reading: events are published after their transaction commits, so everything
up to that number is in what it read. A board older than ``max_age_s`` is computed again even without events
(the last 30 minutes move, callbacks fall due).

``track()`` follows the routing events to know since when each agent is in its state (``board.StateClock``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from infolinia.events import Event, EventBus, Subscription
from infolinia.routing.model import AgentState
from infolinia.routing.service import RoutingService
from infolinia.store.db import Database
from infolinia.store.models import Tenant
from infolinia.store.types import utcnow
from infolinia.wallboard import read
from infolinia.wallboard.board import Board, StateClock

__all__ = ["Wallboards"]

log = logging.getLogger(__name__)
#: event types that change what a board shows (the page refreshes on these)
PREFIXES = ("routing.", "callback.", "campaign.", "interaction.", "chat.", "queue.", "agent.", "user.")


@dataclass
class _Tenant:
    board: Board | None = None
    made: float = float("-inf")  # monotonic time the board's computation started
    running: asyncio.Task[Board] | None = None
    computed: int = 0  # boards computed (for tests and the benchmark)
    earlier: read.Earlier = field(default_factory=read.Earlier)  # today's figures before the last half hour


class Wallboards:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        routing: RoutingService,
        *,
        min_interval_s: float = 0.2,
        max_age_s: float = 5.0,
    ) -> None:
        self.db = db
        self.bus = bus
        self.routing = routing
        self.min_interval_s = min_interval_s
        self.max_age_s = max_age_s
        self.clock = StateClock()
        self._tenants: dict[int, _Tenant] = {}
        self._sub: Subscription | None = None

    def earlier(self, tenant_id: int) -> read.Earlier:
        """The tenant's figures kept from one board to the next (today before the last half hour)."""
        return self._tenants.setdefault(tenant_id, _Tenant()).earlier

    def computed(self, tenant_id: int) -> int:
        found = self._tenants.get(tenant_id)
        return found.computed if found else 0

    async def board(self, tenant_id: int, seq: int = 0) -> Board:
        """A board of the tenant that includes event ``seq`` (at most the newest published) and is younger than
        ``max_age_s``."""
        need = min(max(seq, 0), self.bus.last_seq)
        t = self._tenants.setdefault(tenant_id, _Tenant())
        while True:
            board = t.board
            if board is not None and board.seq >= need and time.monotonic() - t.made < self.max_age_s:
                return board
            if t.running is None or t.running.done():  # one computation at a time; the others wait for it
                t.running = asyncio.create_task(self._compute(tenant_id, t))
            await asyncio.shield(t.running)

    async def _compute(self, tenant_id: int, t: _Tenant) -> Board:
        wait = t.made + self.min_interval_s - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t.made = time.monotonic()
        seq = self.bus.last_seq  # every event up to here was committed before it was published
        board = await self.read(tenant_id, seq, utcnow())
        t.board = board
        t.computed += 1
        return board

    async def read(self, tenant_id: int, seq: int, now: datetime) -> Board:
        self._drain()  # the events published so far are seen: the changed interactions are known before reading
        earlier = self.earlier(tenant_id)
        async with self.db.session() as s:
            tenant = await s.get(Tenant, tenant_id)
            assert tenant is not None, f"no tenant {tenant_id}"
            return await read.board(s, tenant, self.routing.engine, self.clock, seq, now, earlier)

    async def track(self) -> None:
        """Follow the routing events (the agents' time in state) and the interactions' (which contacts changed),
        until cancelled. A computation also takes what is waiting (``_drain``) before it reads."""
        while True:
            with self.bus.subscribe(100_000, lambda e: e.type.startswith(("routing.", "interaction."))) as sub:
                self._sub = sub
                while not sub.overflowed:
                    self.observe(await sub.get())
                    self._drain()
            self._sub = None
            for t in self._tenants.values():  # which contacts changed is not known: read them all again
                t.earlier = read.Earlier()
            log.warning("wallboard: fell behind the events; time in state may be off until the next change")

    def _drain(self) -> None:
        sub = self._sub
        while sub is not None and not sub.queue.empty():
            self.observe(sub.queue.get_nowait())

    def observe(self, event: Event) -> None:
        if event.type.startswith("interaction."):
            if event.tenant_id is not None and isinstance(event.data.get("id"), int):
                earlier = self.earlier(event.tenant_id)
                if len(earlier.changed) < read.MAX_CHANGED:
                    earlier.changed.add(event.data["id"])
                else:  # too many to look at one by one: read the earlier figures again
                    earlier.until = None
            return
        after = event.data.get("after") or {}
        at = datetime.fromisoformat(event.at)
        changed = event.type == "routing.agent_state"
        for agent in after.get("agents", ()):
            with contextlib.suppress(KeyError, TypeError, ValueError):
                self.clock.observe(int(agent["id"]), AgentState(agent["state"]), at, changed)
        for gone in after.get("gone_agents", ()):
            self.clock.forget(int(gone))
