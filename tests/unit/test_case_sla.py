"""Case SLA timers in business hours under a fake clock: nights, weekends, holidays, time zones, both DST changes,
pause/resume, warnings, breaches, met/missed, the JSON form, calendar-day deadlines, and properties of the
business-time arithmetic on random calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infolinia.cases.sla import SlaClock, SlaError, add_working, calendar_deadline, working_time
from infolinia.tenants.calendar import DAYS, SEARCH_DAYS, BusinessHours

WARSAW = "Europe/Warsaw"
WAW = ZoneInfo(WARSAW)
OFFICE = BusinessHours.from_json(
    {"weekly": {d: [["08:00", "16:00"]] for d in DAYS[:5]}, "holidays": ["2026-12-25", "2026-12-26"]}
)
ALWAYS = BusinessHours.from_json({"weekly": {d: [["00:00", "24:00"]] for d in DAYS}})
NEVER = BusinessHours.from_json({})
H = timedelta(hours=1)
US = timedelta(microseconds=1)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, tz: ZoneInfo = WAW) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- business time -------------------------------------------------------------------------------------


def test_a_night() -> None:
    thursday = local(2026, 6, 4, 15)
    assert add_working(thursday, 4 * H, OFFICE, WARSAW) == local(2026, 6, 5, 11)
    assert working_time(thursday, local(2026, 6, 5, 11), OFFICE, WARSAW) == 4 * H
    assert working_time(local(2026, 6, 4, 16), local(2026, 6, 5, 8), OFFICE, WARSAW) == timedelta(0)


def test_a_weekend() -> None:
    friday = local(2026, 6, 5, 15)
    due = add_working(friday, 4 * H, OFFICE, WARSAW)
    assert due == local(2026, 6, 8, 11)  # Monday 11:00
    assert due is not None and due.tzinfo is UTC
    assert working_time(friday, due, OFFICE, WARSAW) == 4 * H
    assert working_time(local(2026, 6, 6, 9), local(2026, 6, 7, 20), OFFICE, WARSAW) == timedelta(0)


def test_holidays_are_closed() -> None:
    christmas_eve = local(2026, 12, 24, 15)  # Thursday; Friday 25th is a holiday
    assert add_working(christmas_eve, 4 * H, OFFICE, WARSAW) == local(2026, 12, 28, 11)
    plain = BusinessHours.from_json({"weekly": OFFICE.to_json()["weekly"]})
    assert add_working(christmas_eve, 4 * H, plain, WARSAW) == local(2026, 12, 25, 11)
    assert working_time(local(2026, 12, 24), local(2026, 12, 29), OFFICE, WARSAW) == 16 * H


def test_open_at_start_and_exactly_at_closing() -> None:
    monday = local(2026, 6, 8, 8)
    assert add_working(monday, 8 * H, OFFICE, WARSAW) == local(2026, 6, 8, 16)  # the first instant, not Tue 08:00
    assert add_working(monday, 8 * H + US, OFFICE, WARSAW) == local(2026, 6, 9, 8) + US
    assert add_working(local(2026, 6, 8, 7), timedelta(0), OFFICE, WARSAW) == local(2026, 6, 8, 7)  # closed: start


def test_same_calendar_in_two_time_zones() -> None:
    start = utc(2026, 6, 8, 12)  # Monday: 08:00 in New York (open), 21:00 in Tokyo (closed)
    assert add_working(start, 4 * H, OFFICE, "America/New_York") == utc(2026, 6, 8, 16)
    assert add_working(start, 4 * H, OFFICE, "Asia/Tokyo") == utc(2026, 6, 9, 3)  # Tuesday 12:00 JST
    week = (utc(2026, 6, 8), utc(2026, 6, 15))
    assert working_time(*week, OFFICE, "America/New_York") == working_time(*week, OFFICE, "Asia/Tokyo") == 40 * H


@pytest.mark.parametrize(
    ("day", "whole_day", "night"),
    [(date(2026, 3, 29), 23 * H, 5 * H), (date(2026, 10, 25), 25 * H, 7 * H)],  # spring forward; fall back
)
def test_dst_change_days(day: date, whole_day: timedelta, night: timedelta) -> None:
    midnight = datetime.combine(day, time(), WAW)
    next_midnight = datetime.combine(day + timedelta(days=1), time(), WAW)
    assert working_time(midnight, next_midnight, ALWAYS, WARSAW) == whole_day
    nights = BusinessHours.from_json({"weekly": {"sun": [["00:00", "06:00"]]}})
    week = (midnight - timedelta(days=3), midnight + timedelta(days=3))
    assert working_time(*week, nights, WARSAW) == night
    assert add_working(week[0], night, nights, WARSAW) == datetime.combine(day, time(6), WAW)
    office = BusinessHours.from_json({"weekly": {"sun": [["08:00", "16:00"]]}})
    assert working_time(*week, office, WARSAW) == 8 * H


def test_a_weekend_with_a_dst_change() -> None:
    assert add_working(local(2026, 3, 27, 15), 4 * H, OFFICE, WARSAW) == utc(2026, 3, 30, 9)  # Mon 11:00 CEST
    assert add_working(local(2026, 10, 23, 15), 4 * H, OFFICE, WARSAW) == utc(2026, 10, 26, 10)  # Mon 11:00 CET
    assert add_working(local(2026, 3, 28, 12), 24 * H, ALWAYS, WARSAW) == utc(2026, 3, 29, 11)  # 13:00 CEST


def test_wall_times_in_the_gap_and_the_fold_follow_the_calendar_status() -> None:
    # The spring gap (02:00-03:00 on 2026-03-29 does not exist): 02:30-04:00 opens when the clock jumps to 03:00.
    gap = BusinessHours.from_json({"weekly": {"sun": [["02:30", "04:00"]]}})
    assert working_time(utc(2026, 3, 28), utc(2026, 3, 30), gap, WARSAW) == H
    assert add_working(utc(2026, 3, 28), US, gap, WARSAW) == utc(2026, 3, 29, 1) + US
    assert gap.next_open(utc(2026, 3, 28), WARSAW) == utc(2026, 3, 29, 1)
    # The autumn fold (02:00-03:00 on 2026-10-25 happens twice): 02:00-02:30 is open on both passes.
    fold = BusinessHours.from_json({"weekly": {"sun": [["02:00", "02:30"]]}})
    assert working_time(utc(2026, 10, 24), utc(2026, 10, 26), fold, WARSAW) == H
    assert add_working(utc(2026, 10, 24), 45 * timedelta(minutes=1), fold, WARSAW) == utc(2026, 10, 25, 1, 15)


def test_calendar_time_without_hours() -> None:
    start, end = local(2026, 6, 5, 15), local(2026, 6, 8, 11)
    assert working_time(start, end, None, WARSAW) == end - start
    assert working_time(end, start, None, WARSAW) == timedelta(0)
    assert add_working(start, 4 * H, None, WARSAW) == local(2026, 6, 5, 19)
    assert add_working(local(2026, 3, 28, 12), 24 * H, None, WARSAW) == local(2026, 3, 29, 13)  # 24 real hours


def test_a_never_open_calendar() -> None:
    start = local(2026, 6, 5, 15)
    assert add_working(start, H, NEVER, WARSAW) is None
    assert add_working(start, timedelta(0), NEVER, WARSAW) == start
    assert working_time(start, start + timedelta(days=30), NEVER, WARSAW) == timedelta(0)
    mondays = [date(2026, 6, 8) + timedelta(weeks=n) for n in range(60)]
    closed = BusinessHours.from_json({"weekly": {"mon": [["08:00", "09:00"]]}, "holidays": [str(d) for d in mondays]})
    assert add_working(start, H, closed, WARSAW) is None
    clock = SlaClock.start(start, 4 * H)
    assert clock.due_at(NEVER, WARSAW) is None
    assert clock.warn_at(NEVER, WARSAW) is None
    assert clock.state(start + timedelta(days=400), NEVER, WARSAW) == "running"


def test_a_target_too_far_for_the_search() -> None:
    start = utc(2026, 6, 5)
    assert add_working(start, timedelta(days=SEARCH_DAYS), ALWAYS, WARSAW) == start + timedelta(days=SEARCH_DAYS)
    assert add_working(start, timedelta(days=SEARCH_DAYS) + US, ALWAYS, WARSAW) is None
    assert add_working(start, timedelta(days=SEARCH_DAYS) + US, None, WARSAW) is not None


# --- the timer -----------------------------------------------------------------------------------------


def test_start_and_due() -> None:
    clock = SlaClock.start(local(2026, 6, 5, 15), 4 * H)
    assert clock == SlaClock(4 * H, timedelta(0), running_since=utc(2026, 6, 5, 13))
    assert clock.due_at(OFFICE, WARSAW) == local(2026, 6, 8, 11)
    monday = local(2026, 6, 8, 9)
    assert clock.elapsed(monday, OFFICE, WARSAW) == 2 * H
    assert clock.remaining(monday, OFFICE, WARSAW) == 2 * H
    assert clock.remaining(local(2026, 6, 8, 13), OFFICE, WARSAW) == -2 * H


def test_pending_the_customer_over_a_weekend() -> None:
    clock = SlaClock.start(local(2026, 6, 5, 10), 24 * H)
    paused = clock.pause(local(2026, 6, 5, 12), None, WARSAW)  # waiting for the customer
    assert paused == SlaClock(24 * H, 2 * H)
    assert paused.pause(local(2026, 6, 6, 12), None, WARSAW) is paused
    assert paused.due_at(None, WARSAW) is None
    assert paused.state(local(2026, 6, 8, 9), None, WARSAW) == "paused"
    resumed = paused.resume(local(2026, 6, 8, 10))  # the customer answered on Monday
    assert resumed.resume(local(2026, 6, 8, 11)) is resumed
    assert resumed.elapsed(local(2026, 6, 8, 10), None, WARSAW) == 2 * H
    assert resumed.due_at(None, WARSAW) == local(2026, 6, 9, 8)


def test_pause_and_resume_in_business_hours() -> None:
    clock = SlaClock.start(local(2026, 6, 5, 10), 8 * H)
    paused = clock.pause(local(2026, 6, 5, 12), OFFICE, WARSAW)
    assert paused.consumed == 2 * H
    resumed = paused.resume(local(2026, 6, 8, 14))  # Monday 08:00-14:00 not counted
    assert resumed.due_at(OFFICE, WARSAW) == local(2026, 6, 9, 12)  # 2 h Monday, 4 h Tuesday
    assert resumed.elapsed(local(2026, 6, 9, 8), OFFICE, WARSAW) == 4 * H


def test_warning_at_80_percent() -> None:
    start = local(2026, 6, 8, 8)  # Monday
    clock = SlaClock.start(start, 5 * H)
    warn = clock.warn_at(OFFICE, WARSAW)
    assert warn == local(2026, 6, 8, 12)
    assert clock.warn_at(OFFICE, WARSAW, 0.5) == local(2026, 6, 8, 10, 30)
    assert clock.state(warn - US, OFFICE, WARSAW) == "running"
    assert clock.state(warn, OFFICE, WARSAW) == "warning"
    due = clock.due_at(OFFICE, WARSAW)
    assert due == local(2026, 6, 8, 13)
    assert clock.state(due, OFFICE, WARSAW) == "warning"
    assert clock.state(due + US, OFFICE, WARSAW) == "breached"
    # Past the warning point before a pause: no new warning after resuming.
    paused = clock.pause(local(2026, 6, 8, 12, 30), OFFICE, WARSAW)
    assert paused.warn_at(OFFICE, WARSAW) is None
    assert paused.resume(local(2026, 6, 9, 8)).warn_at(OFFICE, WARSAW) is None
    assert paused.resume(local(2026, 6, 9, 8)).state(local(2026, 6, 9, 8), OFFICE, WARSAW) == "warning"


def test_breach_while_running_and_while_paused() -> None:
    clock = SlaClock.start(utc(2026, 6, 8, 8), 2 * H)
    assert clock.state(utc(2026, 6, 8, 11), None, WARSAW) == "breached"
    paused = clock.pause(utc(2026, 6, 8, 11), None, WARSAW)
    assert paused.state(utc(2026, 6, 9), None, WARSAW) == "breached"
    assert paused.remaining(utc(2026, 6, 9), None, WARSAW) == -H
    resumed = paused.resume(utc(2026, 6, 10))
    assert resumed.due_at(None, WARSAW) == utc(2026, 6, 10)  # used up before this segment: already due
    assert resumed.warn_at(None, WARSAW) is None
    assert SlaClock(2 * H, H).state(utc(2026, 6, 9), None, WARSAW) == "paused"


def test_met_and_missed() -> None:
    clock = SlaClock.start(local(2026, 6, 5, 15), 4 * H)
    met = clock.stop(local(2026, 6, 8, 10), OFFICE, WARSAW)
    assert met == SlaClock(4 * H, 3 * H, stopped_at=local(2026, 6, 8, 10))
    assert met.state(local(2027, 1, 1), OFFICE, WARSAW) == "met"
    assert met.stop(local(2026, 6, 9), OFFICE, WARSAW) is met
    assert met.elapsed(local(2027, 1, 1), OFFICE, WARSAW) == 3 * H
    assert met.due_at(OFFICE, WARSAW) is None and met.warn_at(OFFICE, WARSAW) is None
    on_the_dot = clock.stop(local(2026, 6, 8, 11), OFFICE, WARSAW)
    assert on_the_dot.state(local(2026, 6, 8, 11), OFFICE, WARSAW) == "met"
    missed = clock.stop(local(2026, 6, 8, 12), OFFICE, WARSAW)
    assert missed.state(local(2026, 6, 8, 12), OFFICE, WARSAW) == "missed"
    paused = clock.pause(local(2026, 6, 5, 15, 30), OFFICE, WARSAW)
    assert paused.stop(local(2026, 6, 20), OFFICE, WARSAW) == SlaClock(
        4 * H, 30 * timedelta(minutes=1), None, utc(2026, 6, 20) - 2 * H
    )
    with pytest.raises(SlaError, match="stopped"):
        met.pause(local(2026, 6, 9), OFFICE, WARSAW)
    with pytest.raises(SlaError, match="stopped"):
        met.resume(local(2026, 6, 9))


def test_instants_going_backwards_are_refused() -> None:
    clock = SlaClock.start(local(2026, 6, 5, 15), 4 * H)
    before = local(2026, 6, 5, 14)
    for call in (
        lambda: clock.pause(before, OFFICE, WARSAW),
        lambda: clock.stop(before, OFFICE, WARSAW),
        lambda: clock.elapsed(before, OFFICE, WARSAW),
        lambda: clock.state(before, OFFICE, WARSAW),
    ):
        with pytest.raises(SlaError, match="before the clock started"):
            call()


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 6, 5, 15)
    aware = local(2026, 6, 5, 15)
    clock = SlaClock.start(aware, H)
    for call in (
        lambda: working_time(naive, aware, OFFICE, WARSAW),
        lambda: working_time(aware, naive, None, WARSAW),
        lambda: add_working(naive, H, OFFICE, WARSAW),
        lambda: calendar_deadline(naive, 14, WARSAW),
        lambda: SlaClock.start(naive, H),
        lambda: SlaClock(H, stopped_at=naive),
        lambda: clock.pause(naive, OFFICE, WARSAW),
        lambda: clock.stop(naive, OFFICE, WARSAW),
        lambda: clock.elapsed(naive, OFFICE, WARSAW),
        lambda: clock.state(naive, OFFICE, WARSAW),
        lambda: SlaClock(H, H).resume(naive),
        lambda: SlaClock(H, H, stopped_at=aware).state(naive, OFFICE, WARSAW),
    ):
        with pytest.raises(SlaError, match="timezone-aware"):
            call()


def test_other_bad_input_is_refused() -> None:
    at = local(2026, 6, 5, 15)
    with pytest.raises(SlaError, match="target"):
        SlaClock.start(at, -H)
    with pytest.raises(SlaError, match="consumed"):
        SlaClock(H, -H)
    with pytest.raises(SlaError, match="running_since"):
        SlaClock(H, running_since=at, stopped_at=at)
    with pytest.raises(SlaError, match="work"):
        add_working(at, -US, OFFICE, WARSAW)
    with pytest.raises(SlaError, match="tz"):
        working_time(at, at + H, OFFICE, "Mars/Olympus")
    with pytest.raises(SlaError, match="days"):
        calendar_deadline(at, -1, WARSAW)
    for fraction in (0, 1, 1.5, -0.2, True, float("nan")):
        with pytest.raises(SlaError, match="warn_fraction"):
            SlaClock.start(at, H).state(at, OFFICE, WARSAW, fraction)
    assert isinstance(SlaError("x"), ValueError)


# --- JSON ----------------------------------------------------------------------------------------------


def test_json_round_trip() -> None:
    clocks = [
        SlaClock.start(local(2026, 6, 5, 15), 4 * H),
        SlaClock(timedelta(days=30), timedelta(seconds=3600, microseconds=500_000)),
        SlaClock(H, 2 * H, stopped_at=local(2026, 10, 25, 2, 30)),
        SlaClock(timedelta(0)),
    ]
    for clock in clocks:
        assert SlaClock.from_json(clock.to_json()) == clock
    assert clocks[0].to_json() == {
        "target_seconds": 14400,
        "consumed_seconds": 0,
        "running_since": "2026-06-05T13:00:00+00:00",
        "stopped_at": None,
    }
    assert clocks[1].to_json()["consumed_seconds"] == 3600.5
    assert SlaClock.from_json({**clocks[0].to_json(), "running_since": "2026-06-05T15:00:00+02:00"}) == clocks[0]


GOOD = {
    "target_seconds": 14400,
    "consumed_seconds": 0,
    "running_since": "2026-06-05T13:00:00+00:00",
    "stopped_at": None,
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target_seconds": "14400"}, "target_seconds"),
        ({"target_seconds": -1}, "target_seconds"),
        ({"target_seconds": True}, "target_seconds"),
        ({"target_seconds": None}, "target_seconds"),
        ({"target_seconds": float("nan")}, "target_seconds"),
        ({"target_seconds": float("inf")}, "target_seconds"),
        ({"target_seconds": 1e300}, "target_seconds"),
        ({"consumed_seconds": "0"}, "consumed_seconds"),
        ({"consumed_seconds": -0.5}, "consumed_seconds"),
        ({"consumed_seconds": [1]}, "consumed_seconds"),
        ({"running_since": 1780664400}, "running_since"),
        ({"running_since": "yesterday"}, "running_since"),
        ({"running_since": "2026-06-05T13:00:00"}, "running_since"),
        ({"running_since": "2026-06-05"}, "running_since"),
        ({"stopped_at": 0}, "stopped_at"),
        ({"stopped_at": "2026-13-05T13:00:00+00:00"}, "stopped_at"),
        ({"stopped_at": "2026-06-05T14:00:00"}, "stopped_at"),
        ({"stopped_at": "2026-06-05T14:00:00+00:00"}, "running_since"),  # running and stopped at once
        ({"extra": 1}, "extra"),
    ],
)
def test_json_malformed_fields_are_refused(change: dict[str, object], field: str) -> None:
    with pytest.raises(SlaError, match=field):
        SlaClock.from_json({**GOOD, **change})


@pytest.mark.parametrize("field", list(GOOD))
def test_json_missing_fields_are_refused(field: str) -> None:
    with pytest.raises(SlaError, match=f"{field}: required"):
        SlaClock.from_json({key: value for key, value in GOOD.items() if key != field})


@pytest.mark.parametrize("obj", [None, [], "clock", 14400])
def test_json_not_an_object_is_refused(obj: object) -> None:
    with pytest.raises(SlaError, match="expected an object"):
        SlaClock.from_json(obj)


# --- calendar-day deadlines ----------------------------------------------------------------------------


def test_calendar_deadline_14_and_30_days() -> None:
    start = local(2026, 6, 5, 15)
    assert calendar_deadline(start, 14, WARSAW) == local(2026, 6, 20)  # the end of 19 June
    assert calendar_deadline(start, 30, WARSAW) == local(2026, 7, 6)
    assert calendar_deadline(start, 0, WARSAW) == local(2026, 6, 6)
    late = local(2026, 6, 5, 23, 30)  # 21:30 UTC: the local date counts, not the UTC one
    assert calendar_deadline(late, 0, WARSAW) == utc(2026, 6, 5, 22)
    assert calendar_deadline(late, 0, "UTC") == utc(2026, 6, 6)
    assert calendar_deadline(start, 14, WARSAW).tzinfo is UTC


def test_calendar_deadline_across_dst_changes() -> None:
    assert calendar_deadline(local(2026, 3, 20, 10), 14, WARSAW) == utc(2026, 4, 3, 22)  # 4 Apr 00:00 CEST
    assert calendar_deadline(local(2026, 10, 10, 10), 30, WARSAW) == utc(2026, 11, 9, 23)  # 10 Nov 00:00 CET
    santiago = "America/Santiago"
    # Midnight does not exist on 2026-09-06 there (00:00 -> 01:00): the day ends when the clock jumps.
    assert calendar_deadline(utc(2026, 9, 5, 12), 0, santiago) == utc(2026, 9, 6, 4)
    # On 2026-04-05 the clock falls back from 00:00 to 23:00: the 4th ends at the second midnight.
    assert calendar_deadline(utc(2026, 4, 4, 12), 0, santiago) == utc(2026, 4, 5, 4)


# --- properties ----------------------------------------------------------------------------------------

ZONES = ["Europe/Warsaw", "America/New_York", "America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]
QUARTER = timedelta(minutes=15)


@st.composite
def calendars(draw: st.DrawFn) -> tuple[BusinessHours, str]:
    """Random intervals on a 15-minute grid per day and random holidays in 2026-2027, in a random zone."""
    weekly: dict[str, list[list[str]]] = {}
    for day in draw(st.sets(st.sampled_from(DAYS))):
        marks = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
        weekly[day] = [[_clock(lo), _clock(hi)] for lo, hi in zip(marks[::2], marks[1::2], strict=False)]
    holidays = draw(st.lists(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=20))
    hours = BusinessHours.from_json({"weekly": weekly, "holidays": [str(d) for d in holidays]})
    return hours, draw(st.sampled_from(ZONES))


def _clock(mark: int) -> str:
    return f"{mark // 4:02d}:{mark % 4 * 15:02d}"


STARTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.sampled_from([UTC, WAW])
)
WORK = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


@settings(max_examples=200, deadline=None)
@given(calendars(), STARTS, WORK, WORK)
def test_add_working_inverts_working_time_and_is_monotonic(
    calendar: tuple[BusinessHours, str], aware: datetime, w1: timedelta, w2: timedelta
) -> None:
    hours, tz = calendar
    start = aware.astimezone(UTC)  # arithmetic on a zoned datetime is wall-clock arithmetic
    w1, w2 = sorted((w1, w2))
    first, second = add_working(aware, w1, hours, tz), add_working(aware, w2, hours, tz)
    for work, result in ((w1, first), (w2, second)):
        if result is None:
            assert working_time(start, start + timedelta(days=SEARCH_DAYS), hours, tz) < work
        else:
            assert working_time(start, result, hours, tz) == work
            if work:
                assert working_time(start, result - US, hours, tz) < work  # the first such instant
    if second is not None:
        assert first is not None and start <= first <= second
    elif first is not None:
        assert first >= start


@settings(max_examples=200, deadline=None)
@given(calendars(), STARTS, st.lists(st.timedeltas(timedelta(0), timedelta(days=10)), min_size=2, max_size=2))
def test_working_time_is_additive(calendar: tuple[BusinessHours, str], aware: datetime, steps: list[timedelta]) -> None:
    hours, tz = calendar
    a = aware.astimezone(UTC)  # arithmetic on a zoned datetime is wall-clock arithmetic
    b = a + steps[0]
    c = b + steps[1]
    assert working_time(a, b, hours, tz) + working_time(b, c, hours, tz) == working_time(a, c, hours, tz)
    assert working_time(a, c, None, tz) == c - a


@settings(max_examples=100, deadline=None)
@given(calendars(), st.integers(0, 2 * 365 * 96), st.integers(0, 3 * 96))
def test_working_time_counts_the_open_status(calendar: tuple[BusinessHours, str], cell: int, cells: int) -> None:
    """Status only changes on the 15-minute UTC grid here, so sampling it there is exact."""
    hours, tz = calendar
    start = utc(2026, 1, 1) + cell * QUARTER
    open_cells = sum(hours.status(start + i * QUARTER, tz) == "open" for i in range(cells))
    assert working_time(start, start + cells * QUARTER, hours, tz) == open_cells * QUARTER


@settings(max_examples=200, deadline=None)
@given(
    st.timedeltas(timedelta(0), timedelta(days=3650)),
    st.timedeltas(timedelta(0), timedelta(days=3650)),
    st.none() | STARTS,
    st.booleans(),
)
def test_json_round_trip_is_exact(target: timedelta, consumed: timedelta, at: datetime | None, stopped: bool) -> None:
    clock = SlaClock(target, consumed, None if stopped else at, at if stopped else None)
    assert SlaClock.from_json(clock.to_json()) == clock
