"""Callback promises and what follows an attempt, under a fixed clock: pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from infolinia.customers.windows import parse_window
from infolinia.outbound.policy import CallbackPolicy, PolicyError
from infolinia.outbound.promise import Next, Outcome, PromiseError, after_attempt, promise

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
WARSAW = ZoneInfo("Europe/Warsaw")
MIN = timedelta(minutes=1)


# --- the policy -------------------------------------------------------------------------------------------------


def test_policy_defaults_and_round_trip() -> None:
    policy = CallbackPolicy.from_json(None)
    assert policy == CallbackPolicy()
    assert policy.to_json() == {
        "asap_minutes": 15,
        "tolerance_minutes": 2,
        "personal_wait_minutes": 10,
        "max_attempts": 3,
        "retry_minutes": {"no_answer": 30, "busy": 10, "voicemail": 60, "failed": 15},
        "web_queue": None,
        "calling_hours": None,
        "detect_machines": False,
    }
    assert CallbackPolicy.from_json({"detect_machines": True}).detect_machines
    custom = CallbackPolicy.from_json({"asap_minutes": 5, "retry_minutes": {"busy": 3}})
    assert custom.asap_minutes == 5 and custom.retry_minutes["busy"] == 3 and custom.retry_minutes["no_answer"] == 30
    assert CallbackPolicy.from_json(custom.to_json()) == custom


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "expected an object"),
        ({"asap": 5}, "unknown field 'asap'"),
        ({"asap_minutes": 0}, "asap_minutes: must be between 1"),
        ({"asap_minutes": "15"}, "asap_minutes: expected a whole number"),
        ({"max_attempts": True}, "max_attempts: expected a whole number"),
        ({"max_attempts": 21}, "max_attempts: must be between 1 and 20"),
        ({"tolerance_minutes": -1}, "tolerance_minutes"),
        ({"retry_minutes": 5}, "retry_minutes: expected an object"),
        ({"retry_minutes": {"connected": 5}}, "'connected' is not retried"),
        ({"retry_minutes": {"busy": 0}}, "retry_minutes.busy: must be between"),
        ({"web_queue": 5}, "web_queue: expected a queue name"),
        ({"web_queue": " "}, "web_queue: expected a queue name"),
        ({"detect_machines": "yes"}, "detect_machines: expected true or false"),
    ],
)
def test_policy_errors_name_the_field(raw: object, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        CallbackPolicy.from_json(raw)


# --- promises -----------------------------------------------------------------------------------------------------


def test_as_soon_as_possible_is_kept_within_the_policy_minutes() -> None:
    p = promise(CallbackPolicy(asap_minutes=15), T0)
    assert (p.not_before, p.due, p.keep_by) == (T0, T0, T0 + 15 * MIN)
    assert p.kept_by(T0) and p.kept_by(T0 + 15 * MIN)
    assert not p.kept_by(T0 + 15 * MIN + timedelta(seconds=1))


def test_an_agreed_time_is_kept_within_the_tolerance_either_side() -> None:
    at = T0 + timedelta(hours=8)  # 18:00 UTC
    p = promise(CallbackPolicy(tolerance_minutes=2), T0, at)
    assert (p.not_before, p.due, p.keep_by) == (at - 2 * MIN, at, at + 2 * MIN)
    assert p.kept_by(at - 2 * MIN) and p.kept_by(at + 2 * MIN)
    assert not p.kept_by(at - 3 * MIN) and not p.kept_by(at + 3 * MIN)


def test_an_agreed_time_in_a_minute_starts_no_earlier_than_the_request() -> None:
    p = promise(CallbackPolicy(tolerance_minutes=2), T0, T0 + MIN)
    assert p.not_before == T0 and p.keep_by == T0 + 3 * MIN


def test_a_time_just_past_is_now_and_a_time_long_past_is_refused() -> None:
    p = promise(CallbackPolicy(), T0, T0 - timedelta(seconds=30))
    assert p.due == T0
    with pytest.raises(PromiseError, match="has passed"):
        promise(CallbackPolicy(), T0, T0 - 5 * MIN)


def test_naive_times_are_refused() -> None:
    with pytest.raises(PromiseError, match="time zone"):
        promise(CallbackPolicy(), T0, datetime(2026, 12, 7, 18, 0))
    with pytest.raises(PromiseError, match="requested_at"):
        promise(CallbackPolicy(), datetime(2026, 12, 7, 10, 0))


def test_an_agreed_local_time_on_a_dst_change_day() -> None:
    """'18:00' in Warsaw on the day clocks go back (25 October 2026) is 17:00 UTC, a day earlier 16:00 UTC."""
    request = datetime(2026, 10, 24, 9, 0, tzinfo=UTC)
    before = promise(CallbackPolicy(), request, datetime(2026, 10, 24, 18, 0, tzinfo=WARSAW))
    after = promise(CallbackPolicy(), request, datetime(2026, 10, 25, 18, 0, tzinfo=WARSAW))
    assert before.due.astimezone(UTC) == datetime(2026, 10, 24, 16, 0, tzinfo=UTC)
    assert after.due.astimezone(UTC) == datetime(2026, 10, 25, 17, 0, tzinfo=UTC)
    assert after.due - before.due == timedelta(hours=25)


# --- after an attempt ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (Outcome.CONNECTED, Next("completed")),
        (Outcome.WRONG_NUMBER, Next("failed")),
        (Outcome.STOP, Next("stopped")),
        (Outcome.NO_ANSWER, Next("scheduled", T0 + 30 * MIN)),
        (Outcome.BUSY, Next("scheduled", T0 + 10 * MIN)),
        (Outcome.VOICEMAIL, Next("scheduled", T0 + 60 * MIN)),
        (Outcome.FAILED, Next("scheduled", T0 + 15 * MIN)),
    ],
)
def test_each_outcome(outcome: Outcome, expected: Next) -> None:
    assert after_attempt(CallbackPolicy(), outcome, 1, T0) == expected


def test_retries_stop_at_the_maximum() -> None:
    policy = CallbackPolicy(max_attempts=3)
    assert after_attempt(policy, Outcome.NO_ANSWER, 2, T0).status == "scheduled"
    assert after_attempt(policy, Outcome.NO_ANSWER, 3, T0) == Next("failed")


def test_later_reschedules_to_the_customers_time() -> None:
    later = T0 + timedelta(days=1)
    assert after_attempt(CallbackPolicy(), Outcome.LATER, 3, T0, later=later) == Next("scheduled", later)
    with pytest.raises(PromiseError, match="needs the time"):
        after_attempt(CallbackPolicy(), Outcome.LATER, 1, T0)
    with pytest.raises(PromiseError, match="not after the call"):
        after_attempt(CallbackPolicy(), Outcome.LATER, 1, T0, later=T0)


def test_a_retry_moves_into_the_customers_windows() -> None:
    """No answer at 10:00 UTC (11:00 in Warsaw) on a Monday; the customer takes calls on weekdays after 18:00."""
    windows = [parse_window("weekdays after 18:00")]
    step = after_attempt(CallbackPolicy(), Outcome.NO_ANSWER, 1, T0, windows=windows, timezone="Europe/Warsaw")
    assert step == Next("scheduled", datetime(2026, 12, 7, 17, 0, tzinfo=UTC))
    friday_night = datetime(2026, 12, 11, 22, 0, tzinfo=UTC)  # 23:00 Friday in Warsaw, +30 min still Friday
    step = after_attempt(
        CallbackPolicy(), Outcome.NO_ANSWER, 1, friday_night, windows=windows, timezone="Europe/Warsaw"
    )
    assert step.at == friday_night + 30 * MIN
    saturday = datetime(2026, 12, 12, 9, 0, tzinfo=UTC)
    step = after_attempt(CallbackPolicy(), Outcome.NO_ANSWER, 1, saturday, windows=windows, timezone="Europe/Warsaw")
    assert step.at == datetime(2026, 12, 14, 17, 0, tzinfo=UTC)  # Monday 18:00 in Warsaw


def test_a_retry_window_across_the_dst_change() -> None:
    """No answer on Saturday 24 October 2026; the next weekday 18:00 in Warsaw is Monday 26th, after the clocks went
    back: 17:00 UTC, not 16:00."""
    windows = [parse_window("weekdays after 18:00")]
    saturday = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    step = after_attempt(CallbackPolicy(), Outcome.BUSY, 1, saturday, windows=windows, timezone="Europe/Warsaw")
    assert step.at == datetime(2026, 10, 26, 17, 0, tzinfo=UTC)


def test_an_outcome_needs_an_attempt() -> None:
    with pytest.raises(PromiseError, match="at least 1"):
        after_attempt(CallbackPolicy(), Outcome.BUSY, 0, T0)


def test_the_tolerance_is_real_minutes_across_the_spring_change() -> None:
    """03:01 in Warsaw on 29 March 2026 is one minute after the clocks jumped from 02:00 to 03:00: two minutes
    before it is 01:59 on the wall (00:59 UTC), not 02:59, a time that never existed."""
    at = datetime(2026, 3, 29, 3, 1, tzinfo=WARSAW)
    p = promise(CallbackPolicy(tolerance_minutes=2), datetime(2026, 3, 28, 12, 0, tzinfo=UTC), at)
    assert p.due == datetime(2026, 3, 29, 1, 1, tzinfo=UTC)
    assert p.not_before == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert p.keep_by == datetime(2026, 3, 29, 1, 3, tzinfo=UTC)


# --- calling hours ------------------------------------------------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
LEGAL = {
    "weekly": {d: [["08:00", "21:00"]] for d in WEEKDAYS} | {"sat": [["09:00", "14:00"]]},
    "holidays": ["2026-12-25"],
}


def legal_policy(**extra: object) -> CallbackPolicy:
    return CallbackPolicy.from_json({"calling_hours": LEGAL, **extra})


def test_calling_hours_round_trip_and_errors() -> None:
    policy = legal_policy()
    assert policy.calling_hours is not None
    assert CallbackPolicy.from_json(policy.to_json()) == policy
    with pytest.raises(PolicyError, match=r"calling_hours: weekly\.mon"):
        CallbackPolicy.from_json({"calling_hours": {"weekly": {"mon": [["21:00", "08:00"]]}}})
    with pytest.raises(PolicyError, match="no day has hours"):
        CallbackPolicy.from_json({"calling_hours": {"weekly": {}}})


def test_as_soon_as_possible_waits_for_the_calling_hours() -> None:
    """Asked at 23:30 on a Monday in Warsaw: promised for Tuesday 08:00, kept by 08:15."""
    night = datetime(2026, 12, 7, 22, 30, tzinfo=UTC)  # 23:30 in Warsaw
    p = promise(legal_policy(), night, timezone="Europe/Warsaw")
    assert p.not_before == p.due == datetime(2026, 12, 8, 7, 0, tzinfo=UTC)
    assert p.keep_by == datetime(2026, 12, 8, 7, 15, tzinfo=UTC)
    christmas_eve = datetime(2026, 12, 24, 20, 30, tzinfo=UTC)  # Thursday 21:30; Friday the 25th is a quiet day
    assert promise(legal_policy(), christmas_eve, timezone="Europe/Warsaw").due == datetime(
        2026, 12, 26, 8, 0, tzinfo=UTC
    )  # Saturday 09:00
    at = datetime(2026, 12, 8, 22, 0, tzinfo=UTC)  # an agreed 23:00: the customer's choice stands
    assert promise(legal_policy(), night, at, timezone="Europe/Warsaw").due == at


def test_retries_keep_to_the_calling_hours_and_the_customers_windows() -> None:
    evening = datetime(2026, 12, 7, 19, 45, tzinfo=UTC)  # Monday 20:45 in Warsaw; +30 min is 21:15, closed
    step = after_attempt(legal_policy(), Outcome.NO_ANSWER, 1, evening, tenant_timezone="Europe/Warsaw")
    assert step.at == datetime(2026, 12, 8, 7, 0, tzinfo=UTC)  # Tuesday 08:00
    windows = [parse_window("weekdays after 18:00")]  # meets the legal hours 18:00-21:00 on weekdays
    step = after_attempt(legal_policy(), Outcome.NO_ANSWER, 1, evening, windows=windows, timezone="Europe/Warsaw",
                         tenant_timezone="Europe/Warsaw")  # fmt: skip
    assert step.at == datetime(2026, 12, 8, 17, 0, tzinfo=UTC)  # Tuesday 18:00
    never = [parse_window("sun after 10:00")]  # no calls on Sundays: the law wins over the customer's wish
    step = after_attempt(legal_policy(), Outcome.BUSY, 1, evening, windows=never, timezone="Europe/Warsaw",
                         tenant_timezone="Europe/Warsaw")  # fmt: skip
    assert step.at == evening + timedelta(minutes=10)  # 20:55, still within the calling hours
