"""What calls write and read in the store: the call's Interaction row, its routing task, and the lookups a call
needs (the queue a flow names, a customer by caller ID or customer number, an agent's extension).

Every change goes through the one write path (``store.uow.write``): the row, then ``interaction.updated`` after
commit. The IVR path is written whenever the row is, so a crash loses at most the nodes since the last write.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from infolinia.customers.actions import customer_by_phone
from infolinia.customers.identities import normalize_phone
from infolinia.events import EventBus
from infolinia.interactions.actions import TIMELINE, check_timeline
from infolinia.store.db import Database
from infolinia.store.models import (
    AgentProfile,
    Channel,
    Customer,
    Direction,
    Interaction,
    Queue,
)
from infolinia.store.types import utcnow
from infolinia.store.uow import Who, write

log = logging.getLogger(__name__)

CALLS = Who(None, "phone")
CALL_FIELDS = frozenset(
    {*TIMELINE, "queue_id", "agent_id", "customer_id", "ivr_path", "recording", "end_reason", "hold_s",
     "transferred_at"}
)  # fmt: skip


class CallRecords:
    def __init__(self, db: Database, bus: EventBus | None) -> None:
        self.db = db
        self.bus = bus

    async def open(self, tenant_id: int, caller: str | None, dialed: str, call_id: str) -> int:
        """The Interaction of a new inbound call; its id."""
        async with write(self.db, self.bus, CALLS) as tx:
            row = Interaction(
                tenant_id=tenant_id,
                channel=Channel.VOICE,
                direction=Direction.INBOUND,
                from_address=(caller or None) and caller[:254],
                to_address=dialed[:254],
                sip_call_id=call_id[:200],
                created_at=utcnow(),
            )
            tx.session.add(row)
            await tx.session.flush()
            tx.emit("interaction.created", tenant_id, id=row.id, channel=row.channel.value, customer_id=None)
            return row.id

    async def continuation(self, tenant_id: int, interaction_id: int) -> int:
        """A new Interaction that continues a transferred call (same customer, caller, number and Call-ID; its
        ``transferred_from_id`` the one handed on); its id."""
        async with write(self.db, self.bus, CALLS) as tx:
            old = await tx.session.get(Interaction, interaction_id)
            if old is None or old.tenant_id != tenant_id:
                raise LookupError(f"call record {interaction_id} of tenant {tenant_id} is gone")
            row = Interaction(
                tenant_id=tenant_id, channel=Channel.VOICE, direction=old.direction, customer_id=old.customer_id,
                from_address=old.from_address, to_address=old.to_address, sip_call_id=old.sip_call_id,
                transferred_from_id=old.id, created_at=utcnow(),
            )  # fmt: skip
            tx.session.add(row)
            await tx.session.flush()
            tx.emit("interaction.created", tenant_id, id=row.id, channel=row.channel.value, customer_id=row.customer_id)
            return row.id

    async def update(self, tenant_id: int, interaction_id: int, **fields: Any) -> None:
        """Set call fields (timestamps in their order, queue, agent, customer, IVR path, recording, end reason)."""
        unknown = set(fields) - CALL_FIELDS
        if unknown:
            raise ValueError(f"not a call field: {sorted(unknown)}")
        async with write(self.db, self.bus, CALLS) as tx:
            row = await tx.session.get(Interaction, interaction_id)
            if row is None or row.tenant_id != tenant_id:
                log.warning("call record %s of tenant %s is gone", interaction_id, tenant_id)
                return
            merged: dict[str, datetime | None] = {name: getattr(row, name) for name in TIMELINE}
            merged |= {k: v for k, v in fields.items() if k in TIMELINE}
            check_timeline(merged)
            for key, value in fields.items():
                setattr(row, key, list(value) if key == "ivr_path" else value)
            row.updated_at = utcnow()
            tx.emit("interaction.updated", tenant_id, id=row.id, fields=sorted(fields), customer_id=row.customer_id)

    # --- lookups ---------------------------------------------------------------------------------------------

    async def queue_id(self, tenant_id: int, ref: str) -> int | None:
        """A queue the flow names by name (case-insensitive) or by id."""
        async with self.db.session() as s:
            rows = (await s.execute(select(Queue.id, Queue.name).where(Queue.tenant_id == tenant_id))).all()
        by_name = {name.casefold(): qid for qid, name in rows}
        if ref.casefold() in by_name:
            return by_name[ref.casefold()]
        return int(ref) if ref.isdigit() and int(ref) in {qid for qid, _ in rows} else None

    async def customer_by_caller(self, tenant_id: int, caller: str, region: str) -> int | None:
        try:
            phone = normalize_phone(caller, region)
        except ValueError:
            return None
        async with self.db.session() as s:
            return await customer_by_phone(s, tenant_id, phone)

    async def customer_by_number(self, tenant_id: int, digits: str) -> int | None:
        query = select(Customer.id).where(
            Customer.tenant_id == tenant_id, Customer.number == digits, Customer.erased_at.is_(None)
        )
        async with self.db.session() as s:
            return (await s.execute(query.limit(1))).scalar()

    async def agent_of_extension(self, tenant_id: int, extension: str) -> int | None:
        query = select(AgentProfile.user_id).where(
            AgentProfile.tenant_id == tenant_id, AgentProfile.extension == extension
        )
        async with self.db.session() as s:
            return (await s.execute(query)).scalar()

    async def extension(self, tenant_id: int, agent_id: int) -> str | None:
        query = select(AgentProfile.extension).where(
            AgentProfile.tenant_id == tenant_id, AgentProfile.user_id == agent_id
        )
        async with self.db.session() as s:
            return (await s.execute(query)).scalar()
