"""Cases (``cases/``): file one, find them, change, escalate, reopen, write on their timeline, link contacts,
merge duplicates. Back-office users see their teams' cases and those assigned to them (``deps.case_scope``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from infolinia.api.deps import Access, access, case_scope
from infolinia.cases import actions, service_levels
from infolinia.cases.compliance import compliance
from infolinia.cases.policy import Rung
from infolinia.cases.schemas import (
    CaseDetail,
    CaseEntryIn,
    CaseEntryOut,
    CaseEscalateIn,
    CaseIn,
    CaseLinkIn,
    CaseMergeIn,
    CaseOut,
    CasePatch,
    CaseReopenIn,
    CaseStatusIn,
    Category,
    ComplianceOut,
)
from infolinia.errors import Invalid
from infolinia.schemas import Cursor, Id, Page
from infolinia.store.models import Case, CaseEntry, CaseLink
from infolinia.store.types import utcnow

router = APIRouter(tags=["cases"])

Status = Literal["new", "open", "pending_customer", "escalated", "resolved", "closed"]


def case_out(
    a: Access, case: Case, ladder: tuple[Rung, ...] | None = None, cal: service_levels.Calendar | None = None
) -> CaseOut:
    """The case as the API shows it (``ladder`` and ``cal``: the tenant's, when the caller read them for many)."""
    out = CaseOut.model_validate(case)
    ladder = ladder if ladder is not None else actions.policy_of(a.tenant).ladder
    out.tier_name = ladder[case.tier].name if case.tier < len(ladder) else f"tier {case.tier}"
    out.sla = service_levels.view(case, cal or service_levels.Calendar(a.tenant), utcnow())
    return out


async def _detail(a: Access, case: Case) -> CaseDetail:
    out = CaseDetail(**case_out(a, case).model_dump())
    entries = await a.session.scalars(select(CaseEntry).where(CaseEntry.case_id == case.id).order_by(CaseEntry.id))
    out.entries = [CaseEntryOut.model_validate(entry) for entry in entries]
    links = select(CaseLink.interaction_id).where(CaseLink.case_id == case.id).order_by(CaseLink.id)
    out.interaction_ids = list(await a.session.scalars(links))
    return out


async def _after(a: Access, case: Case, moves: actions.Moves) -> CaseDetail:
    """After the commit: the routing engine takes back the case's old task and routes its new one."""
    out = await _detail(a, case)
    if moves.withdraw or moves.route:
        await a.session.close()  # the routing service writes through its own sessions
        await moves.apply(a.routing)
    return out


@router.post("/cases", response_model=CaseDetail, status_code=201)
async def create_case(body: CaseIn, a: Access = Depends(access("cases.write"))) -> CaseDetail:
    """File a case: numbered per tenant, on the ladder's first rung (its team), the customer's words first on its
    timeline, linked to the contact it was filed in (whose customer it takes when none is given)."""
    moves = actions.Moves()
    async with a.write() as tx:
        case = await actions.create_case(tx, a.tenant, body, moves)
    return await _after(a, case, moves)


@router.get("/cases", response_model=Page[CaseOut])
async def list_cases(
    a: Access = Depends(access("cases.read")),
    status: Status | None = None,
    category: Category | None = None,
    customer_id: Id | None = None,
    assignee_id: Id | None = None,
    team_id: Id | None = None,
    number: Id | None = None,
    active: bool | None = Query(None, description="true: new, open, pending or escalated; false: resolved or closed"),
    limit: int = Query(100, ge=1, le=500),
    after: Cursor | None = None,
) -> Page[CaseOut]:
    """The cases this user may see, by id, filtered."""
    query = select(Case).where(case_scope(a.actor, a.tenant.id))
    for column, value in ((Case.status, status), (Case.category, category), (Case.customer_id, customer_id),
                          (Case.assignee_id, assignee_id), (Case.team_id, team_id), (Case.number, number)):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    if active is not None:
        finished = Case.status.in_(("resolved", "closed"))
        query = query.where(~finished if active else finished)
    if after is not None:
        query = query.where(Case.id > after)
    rows = list(await a.session.scalars(query.order_by(Case.id).limit(limit + 1)))
    ladder, cal = actions.policy_of(a.tenant).ladder, service_levels.Calendar(a.tenant)
    items = [case_out(a, row, ladder, cal) for row in rows[:limit]]
    return Page[CaseOut](items=items, next_cursor=items[-1].id if len(rows) > limit else None)


@router.get("/cases/compliance", response_model=ComplianceOut)
async def case_compliance(
    a: Access = Depends(access("reports.cases")),
    start: datetime | None = Query(None, alias="from", description="cases filed at or after (default: 30 days ago)"),
    end: datetime | None = Query(None, alias="to", description="cases filed before (default: now)"),
    category: Category | None = None,
    priority: Literal["low", "normal", "high", "urgent"] | None = None,
    team_id: Id | None = None,
) -> ComplianceOut:
    """Service-level compliance of the cases filed in the period, as they stand now: per target (first response,
    next response with its rounds, resolution) met, missed, breached while open and still running, and the rate
    (met of the decided); also per category."""
    end = _utc(end, "to") if end is not None else utcnow()
    start = _utc(start, "from") if start is not None else end - timedelta(days=30)
    if not start < end <= start + timedelta(days=366):
        raise Invalid("from must be before to, at most 366 days apart", details={"field": "from"})
    query = select(Case).where(Case.tenant_id == a.tenant.id, Case.created_at >= start, Case.created_at < end,
                               Case.merged_into_id.is_(None))  # fmt: skip
    for column, value in ((Case.category, category), (Case.priority, priority), (Case.team_id, team_id)):
        if value is not None:
            query = query.where(column == value)
    cal, now = service_levels.Calendar(a.tenant), utcnow()
    rows = await a.session.stream_scalars(query.order_by(Case.id).execution_options(yield_per=500))
    figures = compliance([(case.category, service_levels.view(case, cal, now)) async for case in rows])
    return ComplianceOut(start=start, end=end, computed_at=now, **figures)


def _utc(value: datetime, name: str) -> datetime:
    if not 1970 <= value.year <= 9000:
        raise Invalid(f"{name}: expected a time in the years 1970-9000", details={"field": name})
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.get("/cases/{case_id}", response_model=CaseDetail)
async def get_case(a: Access = Depends(access("cases.read"))) -> CaseDetail:
    """The case with its whole timeline (oldest first) and its linked contacts."""
    return await _detail(a, a.obj("case_id"))


@router.patch("/cases/{case_id}", response_model=CaseDetail)
async def update_case(body: CasePatch, a: Access = Depends(access("cases.write"))) -> CaseDetail:
    """Subject, category, priority, customer, assignee (null: nobody)."""
    async with a.write() as tx:
        case = await actions.update_case(tx, a.tenant, a.obj("case_id"), body)
    return await _detail(a, case)


@router.post("/cases/{case_id}/status", response_model=CaseDetail)
async def set_status(body: CaseStatusIn, a: Access = Depends(access("cases.write"))) -> CaseDetail:
    """Move the case (409 ``case_state`` when its status does not allow the move; see docs/cases.md)."""
    moves = actions.Moves()
    async with a.write() as tx:
        case = await actions.set_status(tx, a.tenant, a.obj("case_id"), body.status, body.note, moves)
    return await _after(a, case, moves)


@router.post("/cases/{case_id}/escalate", response_model=CaseDetail)
async def escalate(body: CaseEscalateIn, a: Access = Depends(access("cases.write"))) -> CaseDetail:
    """One rung up the tenant's escalation ladder, with the reason."""
    moves = actions.Moves()
    async with a.write() as tx:
        case = await actions.escalate(tx, a.tenant, a.obj("case_id"), body.reason, moves)
    return await _after(a, case, moves)


@router.post("/cases/{case_id}/reopen", response_model=CaseDetail)
async def reopen(body: CaseReopenIn, a: Access = Depends(access("cases.write"))) -> CaseDetail:
    """A resolved or closed case back to open, with the reason."""
    moves = actions.Moves()
    async with a.write() as tx:
        case = await actions.reopen(tx, a.tenant, a.obj("case_id"), body.reason, moves)
    return await _after(a, case, moves)


@router.post("/cases/{case_id}/entries", response_model=CaseDetail, status_code=201)
async def add_entry(body: CaseEntryIn, a: Access = Depends(access("cases.write"))) -> CaseDetail:
    """An internal note, (``internal: false``) a message to the customer, or (``from_customer: true``) the
    customer's own message, which starts a next-response round when the case's service levels have one."""
    async with a.write() as tx:
        case = await actions.add_entry(tx, a.tenant, a.obj("case_id"), body.body, body.internal, body.from_customer)
    return await _detail(a, case)


@router.post("/cases/{case_id}/links", response_model=CaseDetail, status_code=201)
async def link(body: CaseLinkIn, a: Access = Depends(access("cases.write"))) -> CaseDetail:
    """Link a contact (an interaction of any channel) to the case."""
    async with a.write() as tx:
        case = await actions.link(tx, a.obj("case_id"), body.interaction_id)
    return await _detail(a, case)


@router.post("/cases/{case_id}/merge", response_model=CaseDetail)
async def merge(body: CaseMergeIn, a: Access = Depends(access("cases.write"))) -> CaseDetail:
    """This case is a duplicate of ``into_case_id``: merged into it; the case merged into is returned."""
    moves = actions.Moves()
    async with a.write() as tx:
        case = await actions.merge(tx, a.tenant, a.obj("case_id"), body.into_case_id, moves)
    return await _after(a, case, moves)
