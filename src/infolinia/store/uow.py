"""The one write path: change rows, append audit records, and publish events after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.events import Event, EventBus
from infolinia.store.db import Database
from infolinia.store.models import AuditEvent


@dataclass(frozen=True)
class Who:
    """Who is acting, as recorded in audit rows: a user, or the system/CLI."""

    user_id: int | None
    label: str
    ip: str | None = None


SYSTEM = Who(None, "system")


@dataclass
class Tx:
    session: AsyncSession
    who: Who
    events: list[Event] = field(default_factory=list)

    def audit(
        self, tenant_id: int | None, action: str, object_type: str, object_id: object = None, **data: Any
    ) -> None:
        self.session.add(
            AuditEvent(
                tenant_id=tenant_id,
                actor_user_id=self.who.user_id,
                actor_label=self.who.label,
                action=action,
                object_type=object_type,
                object_id=None if object_id is None else str(object_id),
                data=data,
                ip=self.who.ip,
            )
        )

    def emit(self, type_: str, tenant_id: int | None, **data: Any) -> None:
        self.events.append(Event(type_, tenant_id, data))


@asynccontextmanager
async def transaction(session: AsyncSession, bus: EventBus | None, who: Who) -> AsyncIterator[Tx]:
    """Commit ``session`` on success, roll back on error; publish the collected events only after commit."""
    tx = Tx(session, who)
    try:
        yield tx
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    if bus is not None:
        for event in tx.events:
            bus.publish(event)


@asynccontextmanager
async def write(db: Database, bus: EventBus | None, who: Who) -> AsyncIterator[Tx]:
    """A transaction on a fresh session (for the CLI, the seeder and background jobs)."""
    async with db.session() as session, transaction(session, bus, who) as tx:
        yield tx
