"""A case's service levels: the tenant's rule it took, one clock per target, and what was reported, kept in the
case's ``sla`` JSON; pure (the caller passes ``now``).

``{"rule": 0, "warn_fraction": 0.8, "escalate": true, "warned": ["first_response"], "breached": [],
  "clocks": {"first_response": {"mode": "business", "clock": {...}}, "resolution": {"mode": "statutory", ...}}}``

Targets: ``first_response`` (until the first message to the customer), ``next_response`` (after the first response,
each time the customer writes while no reply is owed yet: until the next message to them; every round is counted as
met or missed in ``next``, ``{"mode", "target_s", "met", "missed"}``, and a new round may warn and breach again) and
``resolution`` (until resolved or closed). A clock's ``mode`` says how it counts: ``business`` (the tenant's
business hours; an empty calendar is around the clock), ``calendar`` (around the clock) or ``statutory`` (calendar
days to the end of a local day: nothing pauses it). While the case is pending the customer the other clocks pause;
resolving or closing it stops every clock; reopening it starts the resolution clock again where it stood (a
statutory one where the calendar stands). ``sla_check_at`` on the case is the next instant a warning or a breach
falls due, for the watcher (``actions.check_service_levels``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from infolinia.cases.policy import CasePolicy
from infolinia.cases.sla import SlaClock, SlaState, calendar_deadline
from infolinia.store.models import Case, Tenant
from infolinia.tenants.calendar import BusinessHours, CalendarError

METRICS = ("first_response", "next_response", "resolution")
Hours = BusinessHours | None
Clocks = dict[str, tuple[str, SlaClock]]  # target -> (mode, clock)


def calendar_of(tenant: Tenant) -> Hours:
    """The tenant's business hours; None (around the clock) when it has none or they cannot be read."""
    try:
        hours = BusinessHours.from_json(tenant.business_hours) if tenant.business_hours else None
    except CalendarError:
        return None
    return hours if hours is not None and hours.weekly else None


def start(case: Case, tenant: Tenant, policy: CasePolicy, customer_tier: str | None, now: datetime) -> None:
    """Attach the first matching rule's clocks to a new case (none: no service levels)."""
    found = policy.sla_rule(case.category, case.priority, customer_tier)
    if found is None:
        case.sla, case.sla_check_at = {}, None
        return
    index, rule = found
    clocks: Clocks = {}
    mode = "calendar" if rule.around_the_clock else "business"
    if rule.first_response_minutes:
        clocks["first_response"] = (mode, SlaClock.start(now, timedelta(minutes=rule.first_response_minutes)))
    if rule.resolution_minutes:
        clocks["resolution"] = (mode, SlaClock.start(now, timedelta(minutes=rule.resolution_minutes)))
    elif rule.resolution_days:
        due = calendar_deadline(now, rule.resolution_days, tenant.timezone)
        clocks["resolution"] = ("statutory", SlaClock.start(now, due - now))
    case.sla = {"rule": index, "warn_fraction": rule.warn_percent / 100, "escalate": rule.escalate_on_breach,
                "warned": [], "breached": []}  # fmt: skip
    if rule.next_response_minutes:
        case.sla["next"] = {"mode": mode, "target_s": rule.next_response_minutes * 60, "met": 0, "missed": 0}
    _store(case, Calendar(tenant), clocks)


class Calendar:
    """How each clock mode counts for one tenant: its business hours read once, and its time zone."""

    __slots__ = ("business", "tz")

    def __init__(self, tenant: Tenant) -> None:
        self.business, self.tz = calendar_of(tenant), tenant.timezone

    def hours(self, mode: str) -> Hours:
        return self.business if mode == "business" else None


def _calendar(tenant: Tenant | Calendar) -> Calendar:
    return tenant if isinstance(tenant, Calendar) else Calendar(tenant)


def _not_before(now: datetime, clock: SlaClock) -> datetime:
    """``now``, or the clock's last start when that is later (another process's clock, or the wall clock set back,
    must not make a reading fail)."""
    since = clock.running_since
    return since if since is not None and now < since else now


def _clocks(case: Case) -> Clocks:
    raw = (case.sla or {}).get("clocks", {})
    return {metric: (entry["mode"], SlaClock.from_json(entry["clock"])) for metric, entry in raw.items()}


def _store(case: Case, cal: Calendar, clocks: Clocks) -> None:
    clocks_json = {metric: {"mode": mode, "clock": clock.to_json()} for metric, (mode, clock) in clocks.items()}
    case.sla = {**case.sla, "clocks": clocks_json}
    _refresh(case, cal, clocks)


def answered(case: Case, tenant: Tenant, now: datetime) -> None:
    """A message to the customer: the first-response clock stops, and the next-response clock of the round the
    customer's last message started (counted met or missed)."""
    clocks = _clocks(case)
    cal, changed = Calendar(tenant), False
    for metric in ("first_response", "next_response"):
        if metric in clocks and not clocks[metric][1].stopped:
            mode, clock = clocks[metric]
            clocks[metric] = (mode, clock.stop(_not_before(now, clock), cal.hours(mode), cal.tz))
            changed = True
            if metric == "next_response":
                _count_round(case, clocks[metric][1], cal, mode)
    if changed:
        _store(case, cal, clocks)


def customer_wrote(case: Case, tenant: Tenant, now: datetime) -> bool:
    """The customer wrote: after the first response, a next-response round starts unless one is already open (a
    reply is owed anyway). True when it started."""
    nxt = (case.sla or {}).get("next")
    if not nxt or case.first_response_at is None:
        return False
    clocks = _clocks(case)
    if "next_response" in clocks and not clocks["next_response"][1].stopped:
        return False
    clocks["next_response"] = (nxt["mode"], SlaClock.start(now, timedelta(seconds=nxt["target_s"])))
    case.sla = {**case.sla, "warned": [m for m in case.sla.get("warned", []) if m != "next_response"],
                "breached": [m for m in case.sla.get("breached", []) if m != "next_response"]}  # fmt: skip
    _store(case, Calendar(tenant), clocks)
    return True


def _count_round(case: Case, stopped: SlaClock, cal: Calendar, mode: str) -> None:
    assert stopped.stopped_at is not None
    state = stopped.state(stopped.stopped_at, cal.hours(mode), cal.tz, case.sla["warn_fraction"])
    nxt = dict(case.sla.get("next") or {"mode": mode, "target_s": round(stopped.target.total_seconds())})
    reported = "next_response" in case.sla.get("breached", [])  # a breach once reported stays a miss
    key = "met" if state == "met" and not reported else "missed"
    nxt[key] = int(nxt.get(key, 0)) + 1
    case.sla = {**case.sla, "next": nxt}


def pause(case: Case, tenant: Tenant, now: datetime) -> None:
    """Pending the customer: every clock but a statutory one stops running."""
    cal = Calendar(tenant)
    clocks = {m: (mode, clock.pause(_not_before(now, clock), cal.hours(mode), cal.tz)
                  if mode != "statutory" and clock.running else clock)
              for m, (mode, clock) in _clocks(case).items()}  # fmt: skip
    if clocks:
        _store(case, cal, clocks)


def resume(case: Case, tenant: Tenant, now: datetime) -> None:
    clocks = {m: (mode, clock if clock.stopped else clock.resume(now)) for m, (mode, clock) in _clocks(case).items()}
    if clocks:
        _store(case, Calendar(tenant), clocks)


def finish(case: Case, tenant: Tenant, now: datetime) -> None:
    """Resolved or closed: every clock stops (met or missed as it stands; an open next-response round counts)."""
    cal, before = Calendar(tenant), _clocks(case)
    clocks = {m: (mode, clock.stop(_not_before(now, clock), cal.hours(mode), cal.tz))
              for m, (mode, clock) in before.items()}  # fmt: skip
    if "next_response" in before and not before["next_response"][1].stopped:
        _count_round(case, clocks["next_response"][1], cal, clocks["next_response"][0])
    if clocks:
        _store(case, cal, clocks)


def reopened(case: Case, tenant: Tenant, now: datetime) -> None:
    """The resolution clock runs again from where it stood (a statutory one from where the calendar stands)."""
    clocks = _clocks(case)
    if "resolution" not in clocks:
        return
    mode, clock = clocks["resolution"]
    consumed = now - case.created_at if mode == "statutory" else clock.consumed
    clocks["resolution"] = (mode, SlaClock(target=clock.target, consumed=consumed, running_since=now))
    _store(case, Calendar(tenant), clocks)


def check(case: Case, tenant: Tenant | Calendar, now: datetime) -> tuple[list[str], list[str]]:
    """The warnings and breaches that fell due by ``now`` and were not reported yet (now marked reported)."""
    if not case.sla:
        return [], []
    cal, clocks = _calendar(tenant), _clocks(case)
    warned, breached = list(case.sla.get("warned", [])), list(case.sla.get("breached", []))
    new_warnings, new_breaches = [], []
    for metric, (mode, clock) in clocks.items():
        state = clock.state(_not_before(now, clock), cal.hours(mode), cal.tz, case.sla["warn_fraction"])
        if state in ("breached", "missed") and metric not in breached:
            breached.append(metric)
            new_breaches.append(metric)
        elif state == "warning" and metric not in warned and metric not in breached:
            warned.append(metric)
            new_warnings.append(metric)
    case.sla = {**case.sla, "warned": warned, "breached": breached}
    _refresh(case, cal, clocks)
    return new_warnings, new_breaches


def _refresh(case: Case, cal: Calendar, clocks: Clocks) -> None:
    """``sla_check_at``: the soonest warning or breach still to report of a running clock."""
    warned, breached = case.sla.get("warned", []), case.sla.get("breached", [])
    times: list[datetime | None] = []
    for metric, (mode, clock) in clocks.items():
        if not clock.running or metric in breached:
            continue
        hours = cal.hours(mode)
        if metric not in warned:
            times.append(clock.warn_at(hours, cal.tz, case.sla["warn_fraction"]))
        times.append(clock.due_at(hours, cal.tz))
    case.sla_check_at = min((t for t in times if t is not None), default=None)


def view(case: Case, tenant: Tenant | Calendar, now: datetime) -> dict[str, Any] | None:
    """For the API: per target, its state now, when it falls due and when the warning does (``tenant``: or its
    ``Calendar``, read once for many cases)."""
    if not case.sla:
        return None
    cal = _calendar(tenant)
    out: dict[str, Any] = {"rule": case.sla["rule"]}
    for metric, (mode, clock) in _clocks(case).items():
        hours = cal.hours(mode)
        at = _not_before(now, clock)
        state: SlaState = clock.state(at, hours, cal.tz, case.sla["warn_fraction"])
        out[metric] = {
            "mode": mode, "state": state, "due_at": clock.due_at(hours, cal.tz),
            "warn_at": clock.warn_at(hours, cal.tz, case.sla["warn_fraction"]),
            "elapsed_s": round(clock.elapsed(at, hours, cal.tz).total_seconds()),
            "target_s": round(clock.target.total_seconds()),
        }  # fmt: skip
    if "next" in case.sla:
        rounds = case.sla["next"]
        out["next_response_rounds"] = {"met": rounds.get("met", 0), "missed": rounds.get("missed", 0)}
    return out
