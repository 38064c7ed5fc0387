"""Writing wrap-up codes and dispositions: every change in the caller's transaction (``Tx``) with its audit record
and its event. The rules are pure (``codes.py``); this module applies them to rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.errors import Conflict, Invalid, NotFound
from infolinia.store.models import Interaction, Queue, WrapupCode
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx
from infolinia.wrapup import codes
from infolinia.wrapup.schemas import WrapupCodeIn, WrapupCodePatch


@contextmanager
def _as_domain_error() -> Iterator[None]:
    try:
        yield
    except codes.CodeError as exc:
        kind = Conflict if exc.conflict else Invalid
        raise kind(str(exc), code=exc.kind, details=exc.details) from None


async def queue_codes(session: AsyncSession, queue_id: int) -> list[WrapupCode]:
    """The queue's codes in the order agents see them (deactivated ones too)."""
    query = select(WrapupCode).where(WrapupCode.queue_id == queue_id)
    return list(await session.scalars(query.order_by(WrapupCode.position, WrapupCode.id)))


def _emit(tx: Tx, type_: str, row: WrapupCode, fields: list[str] | None = None) -> None:
    tx.emit(type_, row.tenant_id, id=row.id, queue_id=row.queue_id, code=row.code, fields=fields)


async def create_code(tx: Tx, queue: Queue, data: WrapupCodeIn) -> WrapupCode:
    rows = await queue_codes(tx.session, queue.id)
    with _as_domain_error():
        codes.check_new_code(data.code, [row.code for row in rows])
    position = data.position if data.position is not None else codes.next_position(row.position for row in rows)
    row = WrapupCode(tenant_id=queue.tenant_id, queue_id=queue.id, code=data.code, label=data.label,
                     outcome=data.outcome, active=data.active, position=position)  # fmt: skip
    tx.session.add(row)
    await tx.session.flush()
    tx.audit(queue.tenant_id, "wrapup_code.created", "wrapup_code", row.id, queue_id=queue.id, code=row.code,
             outcome=row.outcome)  # fmt: skip
    _emit(tx, "wrapup_code.created", row)
    return row


async def _active_others(session: AsyncSession, row: WrapupCode) -> int:
    query = select(func.count()).where(
        WrapupCode.queue_id == row.queue_id, WrapupCode.active.is_(True), WrapupCode.id != row.id
    )
    return int(await session.scalar(query) or 0)


async def update_code(tx: Tx, queue: Queue, row: WrapupCode, data: WrapupCodePatch) -> WrapupCode:
    changes = data.model_dump(exclude_unset=True)
    changed = sorted(key for key, value in changes.items() if getattr(row, key) != value)
    if not changed:
        return row
    if changes.get("active") is False:
        with _as_domain_error():
            codes.check_keeps_active(queue.wrapup_code_required, await _active_others(tx.session, row))
    before = {key: getattr(row, key) for key in changed}
    for key in changed:
        setattr(row, key, changes[key])
    row.updated_at = utcnow()
    await tx.session.flush()
    tx.audit(queue.tenant_id, "wrapup_code.updated", "wrapup_code", row.id, queue_id=queue.id, code=row.code,
             before=before, after={key: getattr(row, key) for key in changed})  # fmt: skip
    _emit(tx, "wrapup_code.updated", row, changed)
    return row


async def uses(session: AsyncSession, row: WrapupCode) -> int:
    """How many contacts of the code's queue carry it."""
    query = select(func.count()).where(
        Interaction.tenant_id == row.tenant_id,
        Interaction.queue_id == row.queue_id,
        Interaction.disposition_code == row.code,
    )
    return int(await session.scalar(query) or 0)


async def delete_code(tx: Tx, queue: Queue, row: WrapupCode) -> None:
    """Delete a code no contact carries (one that is in history is deactivated instead: 409)."""
    used = await uses(tx.session, row)
    if used:
        raise Conflict(
            f"{used} contact(s) carry the code {row.code!r}: deactivate it instead (PATCH active: false), so that"
            " history keeps its meaning", code="code_in_use", details={"contacts": used},
        )  # fmt: skip
    if row.active:
        with _as_domain_error():
            codes.check_keeps_active(queue.wrapup_code_required, await _active_others(tx.session, row))
    await tx.session.delete(row)
    await tx.session.flush()
    tx.audit(queue.tenant_id, "wrapup_code.deleted", "wrapup_code", row.id, queue_id=queue.id, code=row.code)
    _emit(tx, "wrapup_code.deleted", row)


async def set_required(tx: Tx, queue: Queue, required: bool) -> Queue:
    """Whether the queue's contacts need one of its codes when their wrap-up is recorded as ended."""
    if required == queue.wrapup_code_required:
        return queue
    if required:
        active = select(func.count()).where(WrapupCode.queue_id == queue.id, WrapupCode.active.is_(True))
        if not await tx.session.scalar(active):
            raise Invalid("a queue without active wrap-up codes cannot require one: add a code first",
                          code="no_active_codes", details={"field": "required"})  # fmt: skip
    queue.wrapup_code_required = required
    await tx.session.flush()
    tx.audit(queue.tenant_id, "queue.updated", "queue", queue.id, fields=["wrapup_code_required"])
    tx.emit("queue.updated", queue.tenant_id, id=queue.id, fields=["wrapup_code_required"])
    return queue


async def check_disposition(
    session: AsyncSession, tenant_id: int, queue_id: int | None, code: str | None, wrapup_ended: bool
) -> None:
    """422 unless a contact of ``queue_id`` may carry ``code`` (``wrapup_ended``: its wrap-up is being recorded as
    ended, when a queue that requires a code needs one). Contacts without a queue take any free code."""
    if queue_id is None:
        return
    queue = await session.scalar(select(Queue).where(Queue.id == queue_id, Queue.tenant_id == tenant_id))
    if queue is None:
        return  # an unknown queue is refused by the caller, naming its field
    rows = await queue_codes(session, queue_id)
    active = [row.code for row in rows if row.active]
    with _as_domain_error():
        codes.check_disposition(code, active, bool(rows), queue.wrapup_code_required and wrapup_ended)


def in_queue(row: WrapupCode, queue: Queue) -> WrapupCode:
    """The code named in the path, when it is one of the queue's (404 otherwise)."""
    if row.queue_id != queue.id:
        raise NotFound(f"no wrap-up code {row.id} in queue {queue.id}")
    return row
