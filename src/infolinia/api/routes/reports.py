"""Reports (``reports/``): contact KPIs per interval in the tenant's time zone, by queue, agent or channel, as JSON,
CSV or XLSX; one KPI as an SVG chart; the period's other figures (first-contact resolution, callback promises, case
service levels, campaign abandons); a month's summary for the client as a print page and a PDF. A platform admin
names the tenant (each client of an outsourcing center is reported on its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select

from infolinia.api.deps import Access, access
from infolinia.errors import Invalid
from infolinia.reports import contacts, export, monthly, summary
from infolinia.reports.figures import COLUMNS
from infolinia.reports.intervals import local_midnight
from infolinia.schemas import Id
from infolinia.store.models import Channel, Queue, Tenant, User
from infolinia.store.types import utcnow

router = APIRouter(tags=["reports"])

#: the longest period one report covers
MAX_PERIOD = timedelta(days=366)
DEFAULT_PERIOD = timedelta(days=7)
Interval = Literal["15min", "30min", "60min", "day", "week", "month"]
GroupBy = Literal["none", "queue", "agent", "channel"]
Kpi = Literal[COLUMNS]  # type: ignore[valid-type]

_FROM = Query(None, alias="from", description="contacts begun at or after (ISO 8601; without an offset: the "
              "tenant's local time; default: 7 days before to)")  # fmt: skip
_TO = Query(None, alias="to", description="contacts begun before (default: now)")


def _bound(value: datetime, name: str, tz: ZoneInfo) -> datetime:
    if not 1970 <= value.year <= 9000:
        raise Invalid(f"{name}: expected a time in the years 1970-9000", details={"field": name})
    if value.tzinfo is None:  # the tenant's wall clock
        return value.replace(tzinfo=tz).astimezone(UTC)
    return value.astimezone(UTC)


def _period(start: datetime | None, end: datetime | None, tz: ZoneInfo) -> tuple[datetime, datetime]:
    end = _bound(end, "to", tz) if end is not None else utcnow()
    start = _bound(start, "from", tz) if start is not None else end - DEFAULT_PERIOD
    if start >= end:
        raise Invalid("from must be before to", code="bad_period", details={"field": "from"})
    if end - start > MAX_PERIOD:
        raise Invalid("a report covers at most 366 days", code="bad_period", details={"field": "from"})
    return start, end


async def _check(a: Access, queue_id: int | None, agent_id: int | None) -> None:
    if queue_id is not None and await a.session.scalar(
        select(Queue.id).where(Queue.id == queue_id, Queue.tenant_id == a.tenant.id)
    ) is None:  # fmt: skip
        raise Invalid(f"queue_id {queue_id} does not exist", code="unknown_reference", details={"field": "queue_id"})
    if agent_id is not None and await a.session.scalar(
        select(User.id).where(User.id == agent_id, User.tenant_id == a.tenant.id)
    ) is None:  # fmt: skip
        raise Invalid(f"agent_id {agent_id} does not exist", code="unknown_reference", details={"field": "agent_id"})


def _zone(tenant: Tenant) -> ZoneInfo:
    return ZoneInfo(tenant.timezone)


@dataclass
class ContactQuery:
    """The query parameters of the contact report and its exports."""

    start: datetime | None = _FROM
    end: datetime | None = _TO
    interval: Interval = "60min"
    group_by: GroupBy = "none"
    queue_id: Id | None = None
    agent_id: Id | None = None
    channel: Channel | None = None


async def _report(a: Access, q: ContactQuery) -> contacts.Report:
    tz = _zone(a.tenant)
    first, last = _period(q.start, q.end, tz)
    await _check(a, q.queue_id, q.agent_id)
    selection = contacts.Selection(
        a.tenant.id, first, last, q.interval, tz, q.group_by, q.queue_id, q.agent_id, q.channel
    )
    try:
        return await contacts.contact_report(a.session, selection)
    except ValueError as exc:  # too many intervals
        raise Invalid(f"{exc}: choose a longer interval or a shorter period", code="too_many_intervals",
                      details={"field": "interval"}) from exc  # fmt: skip


def _columns(report: contacts.Report) -> list[str]:
    group = ["group", "group_name"] if report.selection.group_by != "none" else []
    return ["interval_start", "interval_end", *group, *COLUMNS]


def _z(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _download(body: str | bytes, media: str, name: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _media(media: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media: {}}, "description": description}}


@router.get("/reports/contacts")
async def contact_report(
    a: Access = Depends(access("reports.read")),
    q: ContactQuery = Depends(),
) -> dict[str, Any]:
    """Offered, answered, abandoned and short-abandoned contacts, service level, abandon rate, ASA, AHT (talk, hold,
    wrap-up), transfers and the transfer rate, staffed time and occupancy per interval of the tenant's clock,
    optionally per queue, agent or channel; and over the whole period. docs/reports.md has the definitions."""
    report = await _report(a, q)
    s = report.selection
    return {"tenant": a.tenant.slug, "timezone": a.tenant.timezone, "from": _z(s.start), "to": _z(s.end),
            "interval": q.interval, "group_by": q.group_by, "queue_id": q.queue_id, "agent_id": q.agent_id,
            "channel": q.channel.value if q.channel else None, "columns": _columns(report), "rows": report.rows(),
            "totals": report.total_rows()}  # fmt: skip


@router.get("/reports/contacts.csv", response_class=Response, responses=_media("text/csv", "The rows as CSV"))
async def contact_report_csv(
    a: Access = Depends(access("reports.read")),
    q: ContactQuery = Depends(),
) -> Response:
    """The rows of ``/reports/contacts`` as CSV, the same columns."""
    report = await _report(a, q)
    body = export.to_csv(_columns(report), report.rows())
    return _download(body, "text/csv; charset=utf-8", f"{a.tenant.slug}-contacts-{q.interval}.csv")


@router.get("/reports/contacts.xlsx", response_class=Response, responses=_media(XLSX, "The rows as a workbook"))
async def contact_report_xlsx(
    a: Access = Depends(access("reports.read")),
    q: ContactQuery = Depends(),
) -> Response:
    """The rows of ``/reports/contacts`` as an XLSX workbook, the same columns."""
    report = await _report(a, q)
    body = export.to_xlsx(_columns(report), report.rows(), "Contacts")
    return _download(body, XLSX, f"{a.tenant.slug}-contacts-{q.interval}.xlsx")


@router.get("/reports/contacts/chart", response_class=Response, responses=_media("image/svg+xml", "An SVG chart"))
async def contact_chart(
    a: Access = Depends(access("reports.read")),
    start: datetime | None = _FROM,
    end: datetime | None = _TO,
    interval: Interval = "60min",
    kpi: Kpi = "service_level",
    queue_id: Id | None = None,
    agent_id: Id | None = None,
    channel: Channel | None = None,
) -> Response:
    """One KPI over the intervals as an SVG line chart (an interval with no figure is a gap)."""
    report = await _report(a, ContactQuery(start, end, interval, "none", queue_id, agent_id, channel))
    rows = report.rows()
    title = f"{a.tenant.name}: {kpi} per {interval}"
    values = [row[kpi] for row in rows]
    unit = " %" if kpi in ("service_level", "abandon_rate", "transfer_rate") else (" s" if kpi.endswith("_s") else "")
    if unit == " %":
        values = [None if v is None else round(v * 100, 2) for v in values]
    svg = export.chart_svg(title, [row["interval_start"] for row in rows], values, unit)
    return Response(svg, media_type="image/svg+xml")


async def _summary(a: Access, first: datetime, last: datetime, queue_id: int | None) -> dict[str, Any]:
    now, tenant = utcnow(), a.tenant
    return {
        "first_contact_resolution": await summary.first_contact_resolution(
            a.session, tenant, first, last, queue_id, now
        ),
        "callbacks": await summary.callbacks(a.session, tenant.id, first, last, queue_id),
        "campaigns": await summary.campaigns(a.session, tenant.id, first, last, queue_id),
        "cases": await summary.cases(a.session, tenant, first, last, now) if queue_id is None else None,
        "computed_at": _z(now),
    }


@router.get("/reports/summary")
async def period_summary(
    a: Access = Depends(access("reports.read")),
    start: datetime | None = _FROM,
    end: datetime | None = _TO,
    queue_id: Id | None = None,
) -> dict[str, Any]:
    """The period's contact KPIs (as ``/reports/contacts`` totals them) with first-contact resolution, callback
    promises kept, predictive campaigns' abandon rate and case service-level compliance (the tenant's cases; not
    given for one queue)."""
    report = await _report(a, ContactQuery(start, end, "day", "none", queue_id))
    s = report.selection
    return {
        "tenant": a.tenant.slug,
        "timezone": a.tenant.timezone,
        "from": _z(s.start),
        "to": _z(s.end),
        "queue_id": queue_id,
        "contacts": report.total_rows()[0],
    } | await _summary(a, s.start, s.end, queue_id)


def _month(value: str | None, tz: ZoneInfo) -> tuple[str, datetime, datetime]:
    if value is None:
        first = (utcnow().astimezone(tz).date().replace(day=1) - timedelta(days=1)).replace(day=1)  # last month
    else:
        first = _first_of(value)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first.isoformat()[:7], local_midnight(first, tz), local_midnight(following, tz)


def _first_of(value: str) -> date:
    try:
        first = date.fromisoformat(value + "-01") if len(value) == 7 and value[4] == "-" else None
    except ValueError:
        first = None
    if first is None or not 1970 <= first.year <= 9000:
        raise Invalid("month: expected YYYY-MM", details={"field": "month"})
    return first


def _labelled(report: contacts.Report, label: Any) -> list[dict[str, Any]]:
    return [row | {"label": label(row)} for row in report.rows()]


async def _monthly(a: Access, month: str | None) -> monthly.MonthlySummary:
    tz = _zone(a.tenant)
    name, first, last = _month(month, tz)
    days = await contacts.contact_report(a.session, contacts.Selection(a.tenant.id, first, last, "day", tz))
    queues = await contacts.contact_report(
        a.session, contacts.Selection(a.tenant.id, first, last, "month", tz, "queue")
    )
    extra = await _summary(a, first, last, None)
    fcr, cb, camp, case = (extra["first_contact_resolution"], extra["callbacks"], extra["campaigns"],
                           extra["cases"])  # fmt: skip
    headline = [
        ("First-contact resolution", monthly.fmt("rate", fcr["rate"])),
        ("Callback promises kept", monthly.fmt("rate", cb["kept_rate"])),
        ("Callbacks promised", str(cb["promised"])),
        ("Campaign abandon rate", monthly.fmt("rate", camp["abandon_rate"])),
        ("Cases filed", str(case["cases"])),
    ] + [(f"Cases: {metric.replace('_', ' ')} met", monthly.fmt("rate", t["rate"]))
         for metric, t in case["targets"].items()]  # fmt: skip
    return monthly.MonthlySummary(
        tenant=a.tenant.name, month=name, timezone=a.tenant.timezone, totals=days.total_rows()[0],
        headline=headline, days=_labelled(days, lambda r: r["interval_start"][:10]),
        queues=_labelled(queues, lambda r: r["group_name"]),
    )  # fmt: skip


_MONTH = Query(None, description="YYYY-MM (default: last month)", max_length=7)


@router.get("/reports/monthly", response_class=Response, responses=_media("text/html", "A page to print"))
async def monthly_summary(a: Access = Depends(access("reports.read")), month: str | None = _MONTH) -> Response:
    """The month's summary for the client company: the month's figures, each day and each queue, as a page to
    print (print CSS)."""
    page = await _monthly(a, month)
    return Response(monthly.to_html(page), media_type="text/html; charset=utf-8")


@router.get("/reports/monthly.pdf", response_class=Response, responses=_media("application/pdf", "A PDF"))
async def monthly_summary_pdf(a: Access = Depends(access("reports.read")), month: str | None = _MONTH) -> Response:
    """The month's summary as a PDF (the same content as ``/reports/monthly``)."""
    page = await _monthly(a, month)
    return _download(monthly.to_pdf(page), "application/pdf", f"{a.tenant.slug}-{page.month}.pdf")


@router.get("/reports/tenants")
async def tenant_overview(
    a: Access = Depends(access("reports.read")),
    start: datetime | None = _FROM,
    end: datetime | None = _TO,
) -> dict[str, Any]:
    """The period's contact KPIs of each tenant apart (a bound without an offset is read on each tenant's own clock):
    for a platform admin who names no tenant every tenant, else the tenant acted in. For an outsourcing center that
    serves several client companies."""
    if a.tenant_obj is not None:
        tenants = [a.tenant_obj]
    else:
        tenants = list(await a.session.scalars(select(Tenant).order_by(Tenant.slug)))
    items = []
    for tenant in tenants:
        tz = _zone(tenant)
        first, last = _period(start, end, tz)
        selection = contacts.Selection(tenant.id, first, last, "month", tz)
        report = await contacts.contact_report(a.session, selection)
        items.append({"tenant": tenant.slug, "name": tenant.name, "timezone": tenant.timezone, "from": _z(first),
                      "to": _z(last), "contacts": report.total_rows()[0]})  # fmt: skip
    return {"items": items}
