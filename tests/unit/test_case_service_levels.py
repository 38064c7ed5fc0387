"""A case's service levels under a fake clock (``cases/service_levels.py``): which rule a case takes, its clocks in
the tenant's business hours across nights, weekends, holidays, time zones and a DST change, paused while pending
the customer, stopped on the answer and on resolution, a statutory deadline in calendar days, warnings and
breaches reported once, and ``sla_check_at`` always the next thing to look at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from infolinia.cases import service_levels as levels
from infolinia.cases.policy import CasePolicy, CasePolicyError
from infolinia.store.models import Case, Tenant

WARSAW = ZoneInfo("Europe/Warsaw")
OFFICE = {"weekly": {day: [["08:00", "16:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
          "holidays": ["2026-12-24", "2026-12-25"]}  # fmt: skip
RULES = {"sla": [
    {"category": "complaint", "first_response_minutes": 240, "resolution_days": 14},
    {"priority": "urgent", "first_response_minutes": 30, "resolution_minutes": 120, "around_the_clock": True},
    {"customer_tier": "vip", "first_response_minutes": 60, "warn_percent": 50},
    {"first_response_minutes": 240, "resolution_minutes": 16 * 60},
]}  # fmt: skip


def local(text: str, zone: ZoneInfo = WARSAW) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)


def tenant(tz: str = "Europe/Warsaw", hours: dict[str, Any] | None = None) -> Tenant:
    return Tenant(id=1, timezone=tz, business_hours=OFFICE if hours is None else hours, case_policy=RULES)


def new_case(
    t: Tenant, at: datetime, category: str = "billing", priority: str = "normal", tier: str = "standard"
) -> Case:
    case = Case(tenant_id=1, category=category, priority=priority, created_at=at, sla={})
    levels.start(case, t, CasePolicy.from_json(RULES), tier, at)
    return case


def due(case: Case, metric: str, t: Tenant, now: datetime) -> datetime:
    view = levels.view(case, t, now)
    assert view is not None
    value = view[metric]["due_at"]
    assert isinstance(value, datetime)
    return value


def test_the_first_matching_rule_applies() -> None:
    t, at = tenant(), local("2026-06-01 09:00")
    assert new_case(t, at, category="complaint").sla["rule"] == 0
    assert new_case(t, at, category="complaint", priority="urgent").sla["rule"] == 0  # order decides
    assert new_case(t, at, priority="urgent").sla["rule"] == 1
    assert new_case(t, at, tier="vip").sla["rule"] == 2
    assert new_case(t, at).sla["rule"] == 3
    none = Case(tenant_id=1, category="billing", priority="normal", created_at=at, sla={})
    levels.start(none, t, CasePolicy(), None, at)  # no rules: no service levels
    assert none.sla == {} and none.sla_check_at is None and levels.view(none, t, at) is None


def test_business_time_skips_the_night_the_weekend_and_holidays() -> None:
    t = tenant()
    friday = new_case(t, local("2026-06-05 15:00"))  # 4 h to answer: 1 h on Friday, 3 h on Monday
    assert due(friday, "first_response", t, local("2026-06-05 15:00")) == local("2026-06-08 11:00")
    assert due(friday, "resolution", t, local("2026-06-05 15:00")) == local("2026-06-09 15:00")  # 16 h
    xmas = new_case(t, local("2026-12-23 14:00"))  # 2 h on the 23rd, then the 24th, 25th and the weekend
    assert due(xmas, "first_response", t, local("2026-12-23 14:00")) == local("2026-12-28 10:00")
    night = new_case(t, local("2026-06-02 22:00"))  # filed at night: the clock starts at 08:00
    assert due(night, "first_response", t, local("2026-06-02 22:00")) == local("2026-06-03 12:00")


def test_the_same_rule_in_another_time_zone_follows_that_office() -> None:
    ny = ZoneInfo("America/New_York")
    t = tenant("America/New_York")
    case = new_case(t, local("2026-06-05 15:00", ny))
    assert due(case, "first_response", t, local("2026-06-05 15:00", ny)) == local("2026-06-08 11:00", ny)


def test_across_the_autumn_change_business_hours_are_wall_clock_hours() -> None:
    t = tenant(hours={"weekly": {d: [["00:00", "06:00"]] for d in ("sat", "sun")}})
    case = new_case(t, local("2026-10-25 00:00"))  # 00:00-06:00 on the fall-back day is 7 h
    # 4 h of real time: the wall clock read 03:00 CEST, went back to 02:00, and reads 03:00 (CET) again
    assert due(case, "first_response", t, local("2026-10-25 00:00")) == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    at = local("2026-10-25 00:00")
    view = levels.view(case, t, at + timedelta(hours=7))
    assert view is not None and view["first_response"]["elapsed_s"] == 7 * 3600


def test_pending_the_customer_pauses_and_the_answer_stops_the_clock() -> None:
    t = tenant()
    case = new_case(t, local("2026-06-01 09:00"))  # first response due 13:00, resolution 16 h: Tue 09:00
    levels.pause(case, t, local("2026-06-01 10:00"))  # asked the customer something: the clocks stop
    assert case.sla_check_at is None
    levels.resume(case, t, local("2026-06-03 10:00"))  # the customer answered on Wednesday
    assert due(case, "first_response", t, local("2026-06-03 10:00")) == local("2026-06-03 13:00")
    # 15 h of 16 left: Wednesday 10-16, Thursday 8-16, Friday 8-9
    assert due(case, "resolution", t, local("2026-06-03 10:00")) == local("2026-06-05 09:00")
    levels.answered(case, t, local("2026-06-03 11:00"))
    view = levels.view(case, t, local("2026-06-03 12:00"))
    assert view is not None and view["first_response"]["state"] == "met" and view["resolution"]["state"] == "running"
    assert case.sla_check_at == local("2026-06-04 13:48")  # resolution's 80 %: 12.8 h in (1 h before the pause)


def test_warnings_and_breaches_are_reported_once_and_in_order() -> None:
    t = tenant()
    case = new_case(t, local("2026-06-01 09:00"), priority="urgent")  # around the clock: 30 min and 2 h
    assert case.sla_check_at == local("2026-06-01 09:24")  # 80 % of 30 min
    assert levels.check(case, t, local("2026-06-01 09:10")) == ([], [])
    assert levels.check(case, t, local("2026-06-01 09:25")) == (["first_response"], [])
    assert levels.check(case, t, local("2026-06-01 09:26")) == ([], [])  # once
    assert case.sla_check_at == local("2026-06-01 09:30")
    assert levels.check(case, t, local("2026-06-01 09:31")) == ([], ["first_response"])
    assert case.sla_check_at == local("2026-06-01 10:36")  # resolution's warning
    assert levels.check(case, t, local("2026-06-01 11:01")) == ([], ["resolution"])  # straight past its warning
    assert levels.check(case, t, local("2026-06-01 12:00")) == ([], []) and case.sla_check_at is None


def test_a_statutory_deadline_counts_calendar_days_and_does_not_pause() -> None:
    t = tenant()
    case = new_case(t, local("2026-10-20 15:00"), category="complaint")  # 14 days: to the end of 3 November
    assert due(case, "resolution", t, local("2026-10-20 15:00")) == local("2026-11-04 00:00")
    levels.pause(case, t, local("2026-10-21 09:00"))
    assert due(case, "resolution", t, local("2026-10-30 09:00")) == local("2026-11-04 00:00")
    levels.finish(case, t, local("2026-10-30 09:00"))
    levels.reopened(case, t, local("2026-11-02 09:00"))  # reopened: the same deadline stands
    assert due(case, "resolution", t, local("2026-11-02 09:00")) == local("2026-11-04 00:00")


def test_resolving_stops_every_clock_and_reopening_resumes_the_resolution_clock() -> None:
    t = tenant()
    case = new_case(t, local("2026-06-01 09:00"))
    levels.finish(case, t, local("2026-06-01 13:00"))  # 4 h of 16 used
    view = levels.view(case, t, local("2026-06-01 14:00"))
    assert view is not None and view["resolution"]["state"] == "met" and case.sla_check_at is None
    levels.reopened(case, t, local("2026-06-02 08:00"))
    assert due(case, "resolution", t, local("2026-06-02 08:00")) == local("2026-06-03 12:00")  # 12 h left


def test_rules_are_validated_with_the_field_named() -> None:
    for bad, field in (
        ({"sla": [{"category": "nope", "first_response_minutes": 5}]}, "sla[0].category"),
        ({"sla": [{"priority": "asap", "first_response_minutes": 5}]}, "sla[0].priority"),
        ({"sla": [{"first_response_minutes": 0}]}, "sla[0].first_response_minutes"),
        ({"sla": [{"resolution_minutes": 5, "resolution_days": 3}]}, "sla[0]"),
        ({"sla": [{"category": "billing"}]}, "sets no target"),
        ({"sla": [{"first_response_minutes": 5, "when": "always"}]}, "unknown field 'when'"),
        ({"sla": [{"first_response_minutes": 5, "around_the_clock": "yes"}]}, "around_the_clock"),
    ):
        with pytest.raises(CasePolicyError, match=field.replace("[", r"\[").replace("]", r"\]")):
            CasePolicy.from_json(bad)
    assert CasePolicy.from_json(RULES).to_json()["sla"][1]["around_the_clock"] is True


def test_a_reading_before_the_clock_started_does_not_fail() -> None:
    """Another process's clock, or the wall clock set back: reading, pausing or stopping a little before the
    clock's start reads as at its start."""
    t = tenant()
    case = new_case(t, local("2026-06-01 09:00"), priority="urgent")
    early = local("2026-06-01 08:59:58")
    view = levels.view(case, t, early)
    assert view is not None and view["first_response"]["elapsed_s"] == 0
    assert levels.check(case, t, early) == ([], [])
    levels.pause(case, t, early)
    levels.finish(case, t, early)
    view = levels.view(case, t, local("2026-06-01 10:00"))
    assert view is not None and view["first_response"]["state"] == "met"


def test_next_response_rounds_start_when_the_customer_writes_after_the_first_response() -> None:
    rules = {"sla": [{"first_response_minutes": 60, "next_response_minutes": 120, "resolution_days": 30}]}
    t = Tenant(id=1, timezone="Europe/Warsaw", business_hours=OFFICE, case_policy=rules)
    at = local("2026-06-05 15:00")  # a Friday
    case = Case(tenant_id=1, category="billing", priority="normal", created_at=at, sla={})
    levels.start(case, t, CasePolicy.from_json(rules), None, at)
    assert not levels.customer_wrote(case, t, local("2026-06-05 15:10"))  # the first response is owed anyway
    case.first_response_at = local("2026-06-05 15:30")
    levels.answered(case, t, case.first_response_at)
    assert levels.customer_wrote(case, t, local("2026-06-05 15:40"))  # round 1: 2 business hours
    assert not levels.customer_wrote(case, t, local("2026-06-05 15:50"))  # a reply is owed already
    assert due(case, "next_response", t, local("2026-06-05 15:50")) == local("2026-06-08 09:40")  # over the weekend
    levels.answered(case, t, local("2026-06-08 09:00"))
    view = levels.view(case, t, local("2026-06-08 09:00"))
    assert view is not None and view["next_response"]["state"] == "met"
    assert view["next_response_rounds"] == {"met": 1, "missed": 0}

    assert levels.customer_wrote(case, t, local("2026-06-08 10:00"))  # round 2, missed: warned and breached again
    assert levels.check(case, t, local("2026-06-08 11:40")) == (["next_response"], [])
    assert levels.check(case, t, local("2026-06-08 12:01")) == ([], ["next_response"])
    levels.pause(case, t, local("2026-06-08 12:30"))  # pending the customer: the round pauses, still breached
    levels.resume(case, t, local("2026-06-09 08:00"))
    levels.answered(case, t, local("2026-06-09 09:00"))
    view = levels.view(case, t, local("2026-06-09 09:00"))
    assert view is not None and view["next_response_rounds"] == {"met": 1, "missed": 1}

    assert levels.customer_wrote(case, t, local("2026-06-09 10:00"))  # round 3: warned afresh
    assert case.sla["warned"].count("next_response") == 0 and "next_response" not in case.sla["breached"]
    assert levels.check(case, t, local("2026-06-09 11:40")) == (["next_response"], [])
    levels.finish(case, t, local("2026-06-09 11:50"))  # resolved with a reply owed, in time: counted met
    view = levels.view(case, t, local("2026-06-09 12:00"))
    assert view is not None and view["next_response_rounds"] == {"met": 2, "missed": 1}
    assert view["resolution"]["state"] == "met"


def test_without_a_next_response_target_the_customers_messages_start_nothing() -> None:
    t = tenant()
    case = new_case(t, local("2026-06-01 09:00"))
    case.first_response_at = local("2026-06-01 09:30")
    levels.answered(case, t, case.first_response_at)
    assert not levels.customer_wrote(case, t, local("2026-06-01 10:00"))
    view = levels.view(case, t, local("2026-06-01 10:00"))
    assert view is not None and "next_response" not in view and "next_response_rounds" not in view
