"""Workforce planning (``wfm/``): staffing for a service-level target and the arrivals forecast."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from infolinia.api.deps import Access, access
from infolinia.errors import Invalid, NotFound
from infolinia.store.models import Channel, Queue
from infolinia.wfm import history
from infolinia.wfm.schemas import RequirementOut, StaffingIn, StaffingOut
from infolinia.wfm.staffing import StaffingError, Target, staff_day

router = APIRouter(tags=["workforce planning"])


@router.post("/wfm/staffing", response_model=StaffingOut)
async def staffing(body: StaffingIn, a: Access = Depends(access("wfm.plan"))) -> StaffingOut:
    """Agents per interval for the target (Erlang C; Erlang A with ``patience_s``): ``agents`` includes shrinkage,
    the other figures are for the ``on_phones`` agents. 422 ``unreachable_target`` when no staffing meets it,
    ``too_large`` for an Erlang A model beyond ``MAX_PATIENCE_ARRIVALS`` arrivals within one mean patience."""
    target = Target(body.target_sl, body.target_seconds, body.max_occupancy, body.max_asa_s, body.patience_s,
                    body.shrinkage)  # fmt: skip
    rows: list[tuple[str | None, float, float | None]]
    if body.intervals is None:
        assert body.calls is not None
        rows = [(None, body.calls, body.aht_s)]
    else:
        rows = [(i.start, i.calls, i.aht_s if i.aht_s is not None else body.aht_s) for i in body.intervals]
    ahts = [float(aht) for _, _, aht in rows if aht is not None]
    try:
        reqs = staff_day([calls for _, calls, _ in rows], ahts, body.interval_minutes * 60.0, target)
    except StaffingError as exc:
        raise Invalid(str(exc), code=exc.code) from exc
    out = []
    for (start, _, _), req in zip(rows, reqs, strict=True):
        perf = req.performance.as_dict()
        out.append(RequirementOut(start=start, calls=req.calls, agents=req.agents, on_phones=req.on_phones,
                                  service_level=perf["service_level"], p_wait=perf["p_wait"], asa_s=perf["asa_s"],
                                  occupancy=perf["occupancy"], p_abandon=perf["p_abandon"]))  # fmt: skip
    hours = round(sum(r.agents for r in out) * body.interval_minutes / 60.0, 2)
    return StaffingOut(model="erlang_c" if body.patience_s is None else "erlang_a", intervals=out, agent_hours=hours)


@router.get("/wfm/forecast")
async def forecast(
    queue_id: int | None = Query(None, ge=1, le=2**31 - 1),
    channel: Channel | None = None,
    days: int = Query(7, ge=1, le=history.MAX_DAYS),
    history_days: int = Query(56, ge=7, le=history.MAX_HISTORY_DAYS),
    holdout_days: int = Query(7, ge=0, le=history.MAX_HISTORY_DAYS // 2),
    interval_minutes: int = Query(15, ge=5, le=1440),
    a: Access = Depends(access("wfm.plan")),
) -> dict[str, object]:
    """Expected inbound contacts per interval for ``days`` days from tomorrow (tenant time), learnt from the last
    ``history_days`` days (weekday x time-of-day profile, damped-trend level; holidays of the tenant calendar
    closed), with the error on the last ``holdout_days`` days (WAPE, daily MAPE, RMSE, and a naive same-weekday
    WAPE beside them)."""
    if queue_id is not None:
        queue = await a.session.get(Queue, queue_id)
        if queue is None or queue.tenant_id != a.tenant.id:
            raise NotFound("no such queue", details={"field": "queue_id"})
    request = history.Request(days, history_days, holdout_days, interval_minutes)
    return await history.forecast_tenant(a.session, a.tenant, queue_id, channel, request)
