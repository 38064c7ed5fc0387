"""Reports in the browser (``/reports``): the contact report of a period with its filters (period, interval, queue,
channel, grouping), the period's other figures, the chart (an SVG drawn on the server, and an interactive one drawn
by ``static/chart.js`` from the same figures, which are also in the table), the CSV and XLSX downloads, and the
month's summary to print or as a PDF. Every figure comes from the same functions as the REST routes
(``api/routes/reports``), so the page and the API agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from infolinia.api.routes import reports as api
from infolinia.errors import DomainError, Invalid
from infolinia.reports import contacts, export, monthly
from infolinia.reports.intervals import INTERVALS
from infolinia.store.models import Channel, Queue
from infolinia.store.types import utcnow
from infolinia.web.ui.gate import Page, gate, page
from infolinia.web.ui.problems import refusal
from infolinia.web.ui.render import N_

__all__ = ["KPI_LABELS", "queues_of", "router"]

router = APIRouter(include_in_schema=False)

#: the KPIs the page shows (the downloads have every column): key -> label
KPI_LABELS: Final = {
    "offered": N_("Offered"),
    "answered": N_("Answered"),
    "abandoned": N_("Abandoned"),
    "service_level": N_("Service level"),
    "abandon_rate": N_("Abandon rate"),
    "asa_s": N_("ASA (s)"),
    "aht_s": N_("AHT (s)"),
    "transfers": N_("Transfers"),
    "transfer_rate": N_("Transfer rate"),
    "occupancy": N_("Occupancy"),
}
RATES: Final = frozenset({"service_level", "abandon_rate", "transfer_rate", "occupancy"})
INTERVAL_LABELS: Final = {"15min": N_("15 minutes"), "30min": N_("30 minutes"), "60min": N_("hour"),
                          "day": N_("day"), "week": N_("week"), "month": N_("month")}  # fmt: skip
GROUP_LABELS: Final = {"none": N_("nothing"), "queue": N_("queue"), "agent": N_("agent"), "channel": N_("channel")}
#: the labels of the monthly summary's other figures (``api.routes.reports._monthly``), for translation
HEADLINE: Final = (N_("First-contact resolution"), N_("Callback promises kept"), N_("Callbacks promised"),
                   N_("Campaign abandon rate"), N_("Cases filed"))  # fmt: skip
FIELDS: Final = ("from", "to", "interval", "group_by", "queue_id", "channel", "kpi")


@dataclass
class Filters:
    values: dict[str, str]  # as given (or the defaults), for the form and the links
    query: api.ContactQuery
    kpi: str


def _today(p: Page) -> date:
    return utcnow().astimezone(ZoneInfo(p.access.tenant.timezone)).date()


def _filters(request: Request, p: Page) -> tuple[Filters, dict[str, str]]:
    """The form's values read from the query string; the problems by field (the defaults stand in for them)."""
    given = {name: request.query_params.get(name, "").strip()[:40] for name in FIELDS}
    today = _today(p)
    values = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat(), "interval": "day",
              "group_by": "none", "queue_id": "", "channel": "", "kpi": "offered"}  # fmt: skip
    values |= {k: v for k, v in given.items() if v}
    problems: dict[str, str] = {}
    days: dict[str, date] = {}
    for name, fallback in (("from", today - timedelta(days=6)), ("to", today)):
        try:
            days[name] = date.fromisoformat(values[name])
            if not 1970 <= days[name].year <= 9000:
                raise ValueError(name)
        except ValueError:
            problems[name] = p._("Expected a date (YYYY-MM-DD).")
            days[name] = fallback
    checks = (("interval", INTERVALS, "day"), ("group_by", GROUP_LABELS, "none"), ("kpi", KPI_LABELS, "offered"),
              ("channel", {"": 1} | {c.value: 1 for c in Channel}, ""))  # fmt: skip
    for name, allowed, default in checks:
        if values[name] not in allowed:
            problems[name] = p._("Choose one of the offered values.")
            values[name] = default
    queue_id = int(values["queue_id"]) if values["queue_id"].isdigit() and len(values["queue_id"]) < 10 else None
    if values["queue_id"] and queue_id is None:
        problems["queue_id"] = p._("Choose one of the offered values.")
    query = api.ContactQuery(
        datetime.combine(days["from"], time()),  # the tenant's midnights (a time without an offset)
        datetime.combine(days["to"] + timedelta(days=1), time()),
        values["interval"],  # type: ignore[arg-type]
        values["group_by"],  # type: ignore[arg-type]
        queue_id,
        None,
        Channel(values["channel"]) if values["channel"] else None,
    )
    return Filters(values, query, values["kpi"]), problems


def _link(values: dict[str, str]) -> str:
    return urlencode({k: v for k, v in values.items() if v})


def _chart_data(p: Page, report: contacts.Report) -> dict[str, Any]:
    """The figures the interactive chart draws (the intervals of the whole selection, no grouping)."""
    rows = report.rows()
    return {
        "labels": [r["interval_start"][:16].replace("T", " ") for r in rows],
        "kpis": {
            k: {"label": p._(label), "rate": k in RATES, "values": [r[k] for r in rows]}
            for k, label in KPI_LABELS.items()
        },
    }


async def queues_of(p: Page) -> list[Queue]:
    rows = await p.access.session.scalars(
        select(Queue).where(Queue.tenant_id == p.access.tenant.id).order_by(Queue.name, Queue.id)
    )
    return list(rows)


@router.get("/reports")
@page
async def reports(request: Request) -> Response:
    async with gate(request, "reports.read") as p:
        filters, problems = _filters(request, p)
        report = chart = summary = None
        status = 422 if problems else 200
        if not problems:
            try:
                report = await api._report(p.access, filters.query)
                whole = report
                if report.selection.group_by != "none":
                    whole = await api._report(p.access, _ungrouped(filters.query))
                chart = _chart_data(p, whole)
                s = report.selection
                summary = await api._summary(p.access, s.start, s.end, filters.query.queue_id)
            except DomainError as exc:
                field = (exc.details or {}).get("field") if isinstance(exc.details, dict) else None
                problems[{"queue_id": "queue_id", "interval": "interval"}.get(str(field), "from")] = refusal(exc, p._)
                status = exc.status
        month = filters.values["from"][:7]
        return p.render("reports/contacts.html", status, values=filters.values, problems=problems, report=report,
                        chart=chart, summary=summary, queues=await queues_of(p), kpis=KPI_LABELS, rates=RATES,
                        intervals=INTERVAL_LABELS, groups=GROUP_LABELS, channels=[c.value for c in Channel],
                        link=_link(filters.values), month=month)  # fmt: skip


def _ungrouped(q: api.ContactQuery) -> api.ContactQuery:
    return api.ContactQuery(q.start, q.end, q.interval, "none", q.queue_id, q.agent_id, q.channel)


async def _checked(request: Request, p: Page) -> tuple[Filters, contacts.Report]:
    filters, problems = _filters(request, p)
    if problems:
        name, message = next(iter(problems.items()))
        raise Invalid(f"{name}: {message}", details={"field": name})
    return filters, await api._report(p.access, filters.query)


@router.get("/reports/contacts.csv")
@page
async def contacts_csv(request: Request) -> Response:
    """The report's rows as CSV: the same as ``GET /api/v1/reports/contacts.csv`` with the page's filters."""
    async with gate(request, "reports.read") as p:
        filters, report = await _checked(request, p)
        body = export.to_csv(api._columns(report), report.rows())
        name = f"{p.access.tenant.slug}-contacts-{filters.query.interval}.csv"
        return api._download(body, "text/csv; charset=utf-8", name)


@router.get("/reports/contacts.xlsx")
@page
async def contacts_xlsx(request: Request) -> Response:
    """The report's rows as an XLSX workbook."""
    async with gate(request, "reports.read") as p:
        filters, report = await _checked(request, p)
        body = export.to_xlsx(api._columns(report), report.rows(), "Contacts")
        return api._download(body, api.XLSX, f"{p.access.tenant.slug}-contacts-{filters.query.interval}.xlsx")


@router.get("/reports/chart.svg")
@page
async def chart_svg(request: Request) -> Response:
    """The chosen KPI over the intervals as an SVG (the server's own drawing, ``reports.export.chart_svg``)."""
    async with gate(request, "reports.read") as p:
        filters, problems = _filters(request, p)
        if problems:
            raise Invalid("bad filters", details={"field": next(iter(problems))})
        report = await api._report(p.access, _ungrouped(filters.query))
        rows = report.rows()
        rate = filters.kpi in RATES
        values = [None if r[filters.kpi] is None else (r[filters.kpi] * 100 if rate else r[filters.kpi]) for r in rows]
        title = f"{p.access.tenant.name}: {p._(KPI_LABELS[filters.kpi])}"
        svg = export.chart_svg(title, [r["interval_start"] for r in rows], values, " %" if rate else "")
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/reports/monthly")
@page
async def monthly_page(request: Request) -> Response:
    """The month's summary for the client, to print: the same figures as ``GET /api/v1/reports/monthly``."""
    async with gate(request, "reports.read") as p:
        month = request.query_params.get("month") or None
        try:
            summary = await api._monthly(p.access, month[:7] if month else None)
        except Invalid:
            summary = await api._monthly(p.access, None)
            return p.render("reports/monthly.html", 422, m=summary, columns=monthly.TABLE_COLUMNS, kpis=KPI_LABELS,
                            rates=RATES, problem=p._("Expected a month (YYYY-MM)."))  # fmt: skip
        return p.render("reports/monthly.html", m=summary, columns=monthly.TABLE_COLUMNS, kpis=KPI_LABELS,
                        rates=RATES, problem="")  # fmt: skip


@router.get("/reports/monthly.pdf")
@page
async def monthly_pdf(request: Request) -> Response:
    async with gate(request, "reports.read") as p:
        month = request.query_params.get("month") or None
        summary = await api._monthly(p.access, month[:7] if month else None)
        return api._download(monthly.to_pdf(summary), "application/pdf", f"{p.access.tenant.slug}-{summary.month}.pdf")
