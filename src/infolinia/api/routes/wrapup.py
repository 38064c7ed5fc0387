"""Wrap-up (``wrapup/``): each queue's codes, a contact's disposition, and first-contact resolution by period,
queue, agent and channel (agents: their own contacts only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select

from infolinia.api.deps import Access, access
from infolinia.errors import Forbidden, Invalid
from infolinia.interactions.actions import set_disposition
from infolinia.schemas import Cursor, Id, InteractionOut, Page
from infolinia.store.models import Channel, Interaction, Queue, Role, WrapupCode
from infolinia.store.types import utcnow
from infolinia.wrapup import actions, report
from infolinia.wrapup.fcr import Verdict
from infolinia.wrapup.schemas import (
    DispositionIn,
    FcrContactOut,
    FcrReport,
    WrapupCodeIn,
    WrapupCodeOut,
    WrapupCodePatch,
    WrapupOut,
    WrapupSettingsIn,
)

router = APIRouter(tags=["wrap-up"])

#: the longest period one report covers
MAX_PERIOD = timedelta(days=366)
DEFAULT_PERIOD = timedelta(days=30)


async def _wrapup(a: Access, queue: Queue) -> WrapupOut:
    rows = await actions.queue_codes(a.session, queue.id)
    codes = [WrapupCodeOut.model_validate(row) for row in rows]
    return WrapupOut(queue_id=queue.id, required=queue.wrapup_code_required, codes=codes)


@router.get("/queues/{queue_id}/wrapup", response_model=WrapupOut)
async def get_wrapup(a: Access = Depends(access("wrapup.read"))) -> WrapupOut:
    """The queue's wrap-up codes in the order agents see them (deactivated ones too), and whether one is required."""
    return await _wrapup(a, a.obj("queue_id"))


@router.patch("/queues/{queue_id}/wrapup", response_model=WrapupOut)
async def set_wrapup(body: WrapupSettingsIn, a: Access = Depends(access("wrapup.manage"))) -> WrapupOut:
    """``required``: contacts of the queue have their wrap-up recorded as ended only with one of its active codes."""
    queue: Queue = a.obj("queue_id")
    if body.required is not None:
        async with a.write() as tx:
            await actions.set_required(tx, queue, body.required)
    return await _wrapup(a, queue)


@router.post("/queues/{queue_id}/wrapup/codes", response_model=WrapupCodeOut, status_code=201)
async def create_code(body: WrapupCodeIn, a: Access = Depends(access("wrapup.manage"))) -> WrapupCode:
    """Add a code (unique in the queue, deactivated ones included; at most 50 per queue)."""
    async with a.write() as tx:
        return await actions.create_code(tx, a.obj("queue_id"), body)


@router.patch("/queues/{queue_id}/wrapup/codes/{wrapup_code_id}", response_model=WrapupCodeOut)
async def update_code(body: WrapupCodePatch, a: Access = Depends(access("wrapup.manage"))) -> WrapupCode:
    """Label, outcome class, active flag, position (the code itself stays)."""
    queue: Queue = a.obj("queue_id")
    row = actions.in_queue(a.obj("wrapup_code_id"), queue)
    async with a.write() as tx:
        return await actions.update_code(tx, queue, row, body)


@router.delete("/queues/{queue_id}/wrapup/codes/{wrapup_code_id}", status_code=204)
async def delete_code(a: Access = Depends(access("wrapup.manage"))) -> Response:
    """Delete a code no contact carries; one in history answers 409 ``code_in_use`` (deactivate it instead)."""
    queue: Queue = a.obj("queue_id")
    row = actions.in_queue(a.obj("wrapup_code_id"), queue)
    async with a.write() as tx:
        await actions.delete_code(tx, queue, row)
    return Response(status_code=204)


@router.post("/interactions/{interaction_id}/disposition", response_model=InteractionOut, tags=["interactions"])
async def disposition(body: DispositionIn, a: Access = Depends(access("interactions.write"))) -> Interaction:
    """Set the contact's wrap-up code (and notes): one of its queue's active codes when the queue has codes (422
    ``unknown_disposition`` naming them), any code otherwise. Audited."""
    async with a.write() as tx:
        return await set_disposition(tx, a.obj("interaction_id"), body.code, body.notes)


def _filters(
    a: Access, start: datetime | None, end: datetime | None, queue_id: int | None, agent_id: int | None,
    channel: Channel | None,
) -> report.Filters:  # fmt: skip
    """The report's selection; naive times are UTC. Agents see only their own contacts."""
    if a.actor.role is Role.AGENT:
        if agent_id not in (None, a.actor.user_id):
            raise Forbidden("agents see first-contact resolution of their own contacts only",
                            details={"permission": "reports.fcr"})  # fmt: skip
        agent_id = a.actor.user_id
    end = _aware(end, "to") if end is not None else utcnow()
    start = _aware(start, "from") if start is not None else end - DEFAULT_PERIOD
    if start >= end:
        raise Invalid("from must be before to", details={"field": "from"})
    if end - start > MAX_PERIOD:
        raise Invalid("a report covers at most 366 days", details={"field": "from"})
    return report.Filters(a.tenant.id, start, end, a.tenant.fcr_window_days, queue_id, agent_id, channel)


def _aware(value: datetime, name: str) -> datetime:
    """A report bound in UTC (naive: UTC already), within years 1970-9000."""
    if not 1970 <= value.year <= 9000:
        raise Invalid(f"{name}: expected a time in the years 1970-9000", details={"field": name})
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def _check_queue(a: Access, queue_id: int | None) -> None:
    if (
        queue_id is not None
        and await a.session.scalar(select(Queue.id).where(Queue.id == queue_id, Queue.tenant_id == a.tenant.id)) is None
    ):
        raise Invalid(f"queue_id {queue_id} does not exist", code="unknown_reference", details={"field": "queue_id"})


_FROM = Query(None, alias="from", description="contacts begun at or after (ISO 8601; default: 30 days before to)")
_TO = Query(None, alias="to", description="contacts begun before (default: now)")


@router.get("/first-contact-resolution", response_model=FcrReport, response_model_by_alias=True)
async def first_contact_resolution(
    a: Access = Depends(access("reports.fcr")),
    start: datetime | None = _FROM,
    end: datetime | None = _TO,
    queue_id: Id | None = None,
    agent_id: Id | None = None,
    channel: Channel | None = None,
) -> FcrReport:
    """Answered inbound contacts begun in the period, counted by first-contact-resolution verdict, and the rate
    (docs/wrap-up.md has the definition)."""
    f = _filters(a, start, end, queue_id, agent_id, channel)
    await _check_queue(a, queue_id)
    now = utcnow()
    counts = await report.figures(a.session, f, now)
    return FcrReport(
        **vars(counts), rate=counts.rate, start=f.start, end=f.end, window_days=f.window_days, queue_id=f.queue_id,
        agent_id=f.agent_id, channel=f.channel.value if f.channel else None, computed_at=now,
    )  # fmt: skip


@router.get("/first-contact-resolution/contacts", response_model=Page[FcrContactOut])
async def fcr_contacts(
    a: Access = Depends(access("reports.fcr")),
    start: datetime | None = _FROM,
    end: datetime | None = _TO,
    queue_id: Id | None = None,
    agent_id: Id | None = None,
    channel: Channel | None = None,
    verdict: Verdict | None = None,
    limit: int = Query(50, ge=1, le=200),
    after: Cursor | None = None,
) -> Page[FcrContactOut]:
    """The same contacts one by one (by id), each with its verdict, the outcome of its code and the repeat contact
    that decided it; ``verdict`` keeps only those. A page can hold fewer than ``limit`` items: follow
    ``next_cursor`` until it is null."""
    f = _filters(a, start, end, queue_id, agent_id, channel)
    await _check_queue(a, queue_id)
    items, cursor = await report.contacts(a.session, f, utcnow(), verdict, after, limit)
    return Page[FcrContactOut](items=items, next_cursor=cursor)
