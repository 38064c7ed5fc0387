"""Workforce planning in the browser (``/planning``): the staffing calculator (Erlang C, or Erlang A with a mean
patience) for one interval, and the arrivals forecast of a queue with its error on a hold-out. Both are read-only
forms (GET) answered by the same functions as ``POST /api/v1/wfm/staffing`` and ``GET /api/v1/wfm/forecast``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from infolinia.api.routes import wfm as api
from infolinia.errors import DomainError
from infolinia.web.ui.gate import Page, gate, page
from infolinia.web.ui.problems import problems_of, refusal
from infolinia.web.ui.reports import queues_of
from infolinia.wfm import history
from infolinia.wfm.schemas import StaffingIn

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

STAFFING: Final = ("calls", "interval_minutes", "aht_s", "target_sl", "target_seconds", "patience_s", "shrinkage",
                   "max_occupancy")  # fmt: skip
STAFFING_DEFAULTS: Final = {"interval_minutes": "15", "target_sl": "0.8", "target_seconds": "20", "shrinkage": "0",
                            "max_occupancy": "1"}  # fmt: skip
FORECAST: Final = {"fc_queue_id": "", "fc_days": "7", "fc_history_days": "56", "fc_holdout_days": "7",
                   "fc_interval": "60"}  # fmt: skip


def _given(request: Request, names: Any, defaults: dict[str, str]) -> dict[str, str]:
    values = dict(defaults)
    for name in names:
        value = request.query_params.get(name, "").strip()[:40]
        if value:
            values[name] = value
    return values


async def _staffing(p: Page, values: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    data = {name: value.replace(",", ".") for name, value in values.items() if value}
    try:
        body = StaffingIn.model_validate(data)
    except ValidationError as exc:
        return None, problems_of(exc, p._)
    try:
        out = await api.staffing(body, p.access)
    except DomainError as exc:
        return None, {"calls": refusal(exc, p._)}
    return out.model_dump(), {}


def _int(value: str, low: int, high: int) -> int | None:
    return int(value) if value.isdigit() and low <= int(value) <= high else None


async def _forecast(p: Page, values: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    limits = {"fc_days": (1, history.MAX_DAYS), "fc_history_days": (7, history.MAX_HISTORY_DAYS),
              "fc_holdout_days": (0, history.MAX_HISTORY_DAYS // 2), "fc_interval": (5, 1440)}  # fmt: skip
    numbers: dict[str, int] = {}
    problems: dict[str, str] = {}
    for name, (low, high) in limits.items():
        found = _int(values[name], low, high)
        if found is None:
            problems[name] = p._("Expected a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
        else:
            numbers[name] = found
    queue_id = None
    if values["fc_queue_id"]:
        queue_id = _int(values["fc_queue_id"], 1, 2**31 - 1)
        if queue_id is None:
            problems["fc_queue_id"] = p._("Choose one of the offered values.")
    if problems:
        return None, problems
    try:
        made = await api.forecast(
            queue_id=queue_id,
            channel=None,
            days=numbers["fc_days"],
            history_days=numbers["fc_history_days"],
            holdout_days=numbers["fc_holdout_days"],
            interval_minutes=numbers["fc_interval"],
            a=p.access,
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        field = (exc.details or {}).get("field") if isinstance(exc.details, dict) else None
        return None, {f"fc_{field}" if field else "fc_days": refusal(exc, p._)}
    answer: dict[str, Any] = {**made}
    per_day: dict[str, float] = defaultdict(float)
    for row in answer["intervals"]:
        per_day[row["start"][:10]] += row["calls"]
    answer["days"] = [(day, round(calls, 1)) for day, calls in per_day.items()]
    first = answer["days"][0][0] if answer["days"] else ""
    answer["first_day"] = [row for row in answer["intervals"] if row["start"].startswith(first)]
    return answer, {}


@router.get("/planning")
@page
async def planning(request: Request) -> Response:
    async with gate(request, "wfm.plan") as p:
        staffing_values = _given(request, STAFFING, STAFFING_DEFAULTS)
        forecast_values = _given(request, FORECAST, FORECAST)
        wanted = request.query_params.get("do", "")
        asked = {name for name, value in request.query_params.items() if value}
        staffing = forecast = None
        staffing_problems: dict[str, str] = {}
        forecast_problems: dict[str, str] = {}
        kept: dict[str, dict[str, str]] = {"staffing": {}, "forecast": {}}  # what the other form carries along
        if wanted == "staffing" or "calls" in asked:
            staffing, staffing_problems = await _staffing(p, staffing_values)
            kept["forecast"] = staffing_values
        if wanted == "forecast" or asked & set(FORECAST):
            forecast, forecast_problems = await _forecast(p, forecast_values)
            kept["staffing"] = forecast_values
        status = 422 if staffing_problems or forecast_problems else 200
        return p.render("planning/planning.html", status, values=staffing_values | forecast_values,
                        staffing=staffing, forecast=forecast, staffing_problems=staffing_problems,
                        forecast_problems=forecast_problems, queues=await queues_of(p), kept=kept)  # fmt: skip
