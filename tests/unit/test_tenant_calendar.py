from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from infolinia.tenants.calendar import DAYS, BusinessHours, CalendarError, set_hours

WARSAW = "Europe/Warsaw"
WAW = ZoneInfo(WARSAW)
DEMO_JSON: dict[str, object] = {
    "weekly": {
        "mon": [["08:00", "20:00"]],
        "tue": [["08:00", "20:00"]],
        "wed": [["08:00", "20:00"]],
        "thu": [["08:00", "20:00"]],
        "fri": [["08:00", "20:00"]],
        "sat": [["09:00", "14:00"]],
    },
    "holidays": ["2026-12-25"],
}
DEMO = BusinessHours.from_json(DEMO_JSON)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=WAW)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- JSON -------------------------------------------------------------------------------------------


def test_demo_round_trips() -> None:
    assert DEMO.to_json() == DEMO_JSON
    assert BusinessHours.from_json(DEMO.to_json()) == DEMO


def test_representation() -> None:
    assert DEMO.weekly["mon"] == ((time(8), time(20)),)
    assert "sun" not in DEMO.weekly
    assert DEMO.holidays == frozenset({date(2026, 12, 25)})


def test_json_is_canonicalized() -> None:
    hours = BusinessHours.from_json(
        {
            "weekly": {"tue": [["13:00", "24:00"], ["08:00", "12:00"]], "mon": [], "sun": [["00:00", "01:00"]]},
            "holidays": ["2026-12-26", "2026-01-01", "2026-12-26"],
        }
    )
    assert hours.to_json() == {
        "weekly": {"tue": [["08:00", "12:00"], ["13:00", "24:00"]], "sun": [["00:00", "01:00"]]},
        "holidays": ["2026-01-01", "2026-12-26"],
    }
    assert hours.weekly["tue"][1] == (time(13), None)


def test_holidays_optional_and_touching_intervals_allowed() -> None:
    hours = BusinessHours.from_json({"weekly": {"mon": [["08:00", "12:00"], ["12:00", "16:00"]]}})
    assert hours.holidays == frozenset()
    assert len(hours.weekly["mon"]) == 2


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ([], "calendar"),
        ({"weekly": {}, "extra": 1}, "calendar: unknown field 'extra'"),
        ({"weekly": []}, "weekly"),
        ({"weekly": {"monday": [["08:00", "20:00"]]}}, "weekly: unknown day 'monday'"),
        ({"weekly": {"mon": "08:00-20:00"}}, "weekly.mon"),
        ({"weekly": {"mon": [["08:00"]]}}, "weekly.mon[0]"),
        ({"weekly": {"mon": [["8:00", "20:00"]]}}, "weekly.mon[0].start"),
        ({"weekly": {"mon": [["08:00", "20:00"], ["25:00", "26:00"]]}}, "weekly.mon[1].start"),
        ({"weekly": {"mon": [["24:00", "24:00"]]}}, "weekly.mon[0].start"),
        ({"weekly": {"mon": [["08:00", "24:01"]]}}, "weekly.mon[0].end"),
        ({"weekly": {"mon": [["08:00", "08:60"]]}}, "weekly.mon[0].end"),
        ({"weekly": {"mon": [["08:00", 20]]}}, "weekly.mon[0].end"),
        ({"weekly": {"tue": [["20:00", "08:00"]]}}, "weekly.tue[0]: start must be before end"),
        ({"weekly": {"tue": [["08:00", "08:00"]]}}, "weekly.tue[0]: start must be before end"),
        ({"weekly": {"wed": [["08:00", "12:00"], ["11:59", "13:00"]]}}, "weekly.wed: interval 11:59-13:00 overlaps"),
        ({"weekly": {"wed": [["12:00", "24:00"], ["08:00", "13:00"]]}}, "weekly.wed: interval 12:00-24:00 overlaps"),
        ({"weekly": {}, "holidays": "2026-12-25"}, "holidays"),
        ({"weekly": {}, "holidays": ["2026-12-25", "2026-02-30"]}, "holidays[1]"),
        ({"weekly": {}, "holidays": ["20261225"]}, "holidays[0]"),
        ({"weekly": {}, "holidays": [20261225]}, "holidays[0]"),
    ],
)
def test_from_json_errors_name_the_field(obj: object, field: str) -> None:
    with pytest.raises(CalendarError) as info:
        BusinessHours.from_json(obj)
    assert str(info.value).startswith(field) or field in str(info.value)
    assert isinstance(info.value, ValueError)


def test_direct_construction_is_validated_and_hashable() -> None:
    with pytest.raises(CalendarError, match=r"weekly\.mon\[0\]"):
        BusinessHours(weekly={"mon": ((time(9), time(8)),)})
    with pytest.raises(CalendarError, match="whole-minute"):
        BusinessHours(weekly={"mon": ((time(8, 0, 30), time(9)),)})
    with pytest.raises(CalendarError, match="unknown day"):
        BusinessHours(weekly={"xyz": ()})
    with pytest.raises(CalendarError, match="holidays"):
        BusinessHours(weekly={}, holidays=frozenset({datetime(2026, 1, 1)}))
    direct = BusinessHours(
        weekly={day: ((time(8), time(20)),) for day in DAYS[:5]} | {"sat": ((time(9), time(14)),)},
        holidays=frozenset({date(2026, 12, 25)}),
    )
    assert direct == DEMO
    assert hash(direct) == hash(DEMO)
    assert len({direct, DEMO}) == 1


# --- status ---------------------------------------------------------------------------------------


def test_demo_status() -> None:
    friday = local(2026, 6, 5, 19, 59)
    assert friday.weekday() == 4
    assert DEMO.status(friday, WARSAW) == "open"
    assert DEMO.status(local(2026, 6, 5, 20, 0), WARSAW) == "closed"
    assert DEMO.status(local(2026, 6, 5, 7, 59), WARSAW) == "closed"
    assert DEMO.status(local(2026, 6, 5, 8, 0), WARSAW) == "open"
    assert DEMO.status(local(2026, 6, 6, 13, 59), WARSAW) == "open"
    assert DEMO.status(local(2026, 6, 6, 14, 0), WARSAW) == "closed"
    assert DEMO.status(local(2026, 6, 7, 12, 0), WARSAW) == "closed"  # Sunday
    assert DEMO.status(local(2026, 12, 25, 12, 0), WARSAW) == "holiday"  # a Friday
    assert DEMO.status(local(2026, 12, 25, 23, 0), WARSAW) == "holiday"
    assert DEMO.status(local(2026, 12, 24, 12, 0), WARSAW) == "open"


def test_status_converts_to_the_tenant_zone() -> None:
    # 2026-06-05 is in summer time (UTC+2): 17:59Z is 19:59 in Warsaw.
    assert DEMO.status(utc(2026, 6, 5, 17, 59), WARSAW) == "open"
    assert DEMO.status(utc(2026, 6, 5, 18, 0), WARSAW) == "closed"
    # Winter (UTC+1): 18:59Z is 19:59.
    assert DEMO.status(utc(2026, 1, 9, 18, 59), WARSAW) == "open"
    assert DEMO.status(utc(2026, 1, 9, 19, 0), WARSAW) == "closed"
    # 23:30Z on Dec 24 is already Dec 25 in Warsaw.
    assert DEMO.status(utc(2026, 12, 24, 23, 30), WARSAW) == "holiday"
    assert DEMO.status(utc(2026, 6, 5, 17, 59), "America/New_York") == "open"  # 13:59 there
    assert DEMO.status(utc(2026, 6, 6, 1, 0), "America/New_York") == "closed"  # Fri 21:00 there


def test_end_of_day_interval() -> None:
    hours = BusinessHours.from_json({"weekly": {"mon": [["22:00", "24:00"]]}})
    assert hours.status(local(2026, 6, 1, 23, 59, 59), WARSAW) == "open"
    assert hours.status(local(2026, 6, 2, 0, 0), WARSAW) == "closed"


def test_bad_inputs() -> None:
    with pytest.raises(CalendarError, match="timezone-aware"):
        DEMO.status(datetime(2026, 6, 5, 12), WARSAW)
    with pytest.raises(CalendarError, match="timezone-aware"):
        DEMO.next_open(datetime(2026, 6, 5, 12), WARSAW)
    with pytest.raises(CalendarError, match="unknown time zone"):
        DEMO.status(utc(2026, 6, 5), "Europe/Nowhere")
    with pytest.raises(CalendarError, match="unknown time zone"):
        DEMO.next_open(utc(2026, 6, 5), "../etc/passwd")


# --- next_open ------------------------------------------------------------------------------------


def test_next_open_is_now_when_open() -> None:
    at = local(2026, 6, 5, 19, 59, 30)
    result = DEMO.next_open(at, WARSAW)
    assert result == at
    assert result is not None and result.tzinfo is UTC


def test_next_open_from_saturday_afternoon_is_monday_morning() -> None:
    result = DEMO.next_open(local(2026, 6, 6, 15, 0), WARSAW)
    assert result == local(2026, 6, 8, 8, 0)
    assert result is not None and result.tzinfo is UTC
    assert result == utc(2026, 6, 8, 6, 0)


def test_next_open_same_day_and_evening() -> None:
    assert DEMO.next_open(local(2026, 6, 5, 6, 0), WARSAW) == local(2026, 6, 5, 8, 0)
    assert DEMO.next_open(local(2026, 6, 5, 20, 0), WARSAW) == local(2026, 6, 6, 9, 0)


def test_next_open_skips_holiday() -> None:
    assert DEMO.next_open(local(2026, 12, 24, 20, 30), WARSAW) == local(2026, 12, 26, 9, 0)
    assert DEMO.next_open(local(2026, 12, 25, 10, 0), WARSAW) == local(2026, 12, 26, 9, 0)


def test_next_open_across_march_dst_change() -> None:
    # 2026-03-29 (Sunday): 02:00 CET jumps to 03:00 CEST.
    assert date(2026, 3, 29).weekday() == 6
    result = DEMO.next_open(local(2026, 3, 28, 15, 0), WARSAW)
    assert result == utc(2026, 3, 30, 6, 0)  # Monday 08:00 CEST
    assert DEMO.next_open(utc(2026, 3, 27, 19, 30), WARSAW) == utc(2026, 3, 28, 8, 0)  # Sat 09:00 CET


def test_next_open_across_october_dst_change() -> None:
    # 2026-10-25 (Sunday): 03:00 CEST falls back to 02:00 CET.
    assert date(2026, 10, 25).weekday() == 6
    result = DEMO.next_open(local(2026, 10, 24, 15, 0), WARSAW)
    assert result == utc(2026, 10, 26, 7, 0)  # Monday 08:00 CET


def test_opening_inside_the_spring_gap_opens_when_the_clock_jumps() -> None:
    hours = BusinessHours.from_json({"weekly": {"sun": [["02:30", "04:00"]]}})
    result = hours.next_open(local(2026, 3, 28, 12, 0), WARSAW)
    assert result == utc(2026, 3, 29, 1, 0)  # the instant the wall clock reads 03:00 CEST
    assert hours.status(utc(2026, 3, 29, 0, 59, 59), WARSAW) == "closed"
    assert hours.status(utc(2026, 3, 29, 1, 0), WARSAW) == "open"


def test_opening_inside_the_autumn_fold_opens_twice() -> None:
    hours = BusinessHours.from_json({"weekly": {"sun": [["02:00", "02:30"]]}})
    first = hours.next_open(local(2026, 10, 24, 12, 0), WARSAW)
    assert first == utc(2026, 10, 25, 0, 0)  # 02:00 CEST
    # 02:40 CEST: closed, but the clock falls back to 02:00 CET at 01:00Z.
    assert hours.next_open(utc(2026, 10, 25, 0, 40), WARSAW) == utc(2026, 10, 25, 1, 0)
    assert hours.next_open(utc(2026, 10, 25, 1, 30), WARSAW) == utc(2026, 11, 1, 1, 0)


def test_opening_after_the_fall_back_instant_uses_the_second_occurrence() -> None:
    hours = BusinessHours.from_json({"weekly": {"sun": [["02:30", "02:45"]]}})
    # 02:50 CEST (00:50Z): the clock falls back at 01:00Z and reads 02:30 again at 01:30Z.
    assert hours.next_open(utc(2026, 10, 25, 0, 50), WARSAW) == utc(2026, 10, 25, 1, 30)
    assert hours.status(utc(2026, 10, 25, 1, 29), WARSAW) == "closed"


def test_nonexistent_local_input_is_read_as_its_real_instant() -> None:
    hours = BusinessHours.from_json({"weekly": {"sun": [["02:00", "03:00"]]}})
    imaginary = local(2026, 3, 29, 2, 30)  # in the spring gap: the instant 01:30Z, i.e. 03:30 CEST
    assert hours.status(imaginary, WARSAW) == "closed"
    assert hours.next_open(imaginary, WARSAW) == utc(2026, 4, 5, 0, 0)


def test_always_open_calendar_stays_open_over_dst() -> None:
    hours = BusinessHours.from_json({"weekly": {day: [["00:00", "24:00"]] for day in DAYS}})
    for at in (utc(2026, 3, 29, 0, 59), utc(2026, 3, 29, 1, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)):
        assert hours.status(at, WARSAW) == "open"
        assert hours.next_open(at, WARSAW) == at


def test_next_open_none_without_hours() -> None:
    assert BusinessHours(weekly={}).next_open(utc(2026, 6, 5), WARSAW) is None
    assert BusinessHours(weekly={}).status(utc(2026, 6, 5), WARSAW) == "closed"


def test_next_open_searches_about_400_days() -> None:
    start = date(2026, 6, 1)  # a Monday
    mondays = [start + timedelta(weeks=n) for n in range(60)]
    hours = BusinessHours(weekly={"mon": ((time(8), time(9)),)}, holidays=frozenset(mondays[:56]))
    assert hours.next_open(local(2026, 6, 1, 10, 0), WARSAW) == local(2027, 6, 28, 8, 0)  # 392 days on
    never = BusinessHours(weekly={"mon": ((time(8), time(9)),)}, holidays=frozenset(mondays))
    assert never.next_open(local(2026, 6, 1, 10, 0), WARSAW) is None


# --- properties -----------------------------------------------------------------------------------

ZONES = [
    "Europe/Warsaw",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "UTC",
]
QUARTER = timedelta(minutes=15)


@st.composite
def day_intervals(draw: st.DrawFn) -> tuple[tuple[time, time | None], ...]:
    """Non-overlapping intervals on a 15-minute grid."""
    marks = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
    intervals: list[tuple[time, time | None]] = []
    for lo, hi in zip(marks[::2], marks[1::2], strict=False):
        end = None if hi == 96 else time(hi // 4, hi % 4 * 15)
        intervals.append((time(lo // 4, lo % 4 * 15), end))
    return tuple(intervals)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[BusinessHours, datetime, str]:
    tz = draw(st.sampled_from(ZONES))
    at = draw(
        st.datetimes(
            min_value=datetime(2000, 1, 1),
            max_value=datetime(2040, 1, 1),
            timezones=st.sampled_from([ZoneInfo(zone) for zone in ZONES]),
        )
    )
    weekly = draw(st.dictionaries(st.sampled_from(DAYS), day_intervals()))
    near = at.astimezone(ZoneInfo(tz)).date()
    holidays = draw(st.frozensets(st.integers(-1, 10).map(lambda n: near + timedelta(days=n)), max_size=4))
    return BusinessHours(weekly=weekly, holidays=holidays), at, tz


@settings(max_examples=300, deadline=None)
@given(scenarios())
@example(  # midnight DST gap; the input wall time does not exist
    (
        BusinessHours(weekly={"sun": ((time(0), time(0, 15)),)}),
        datetime(2016, 8, 14, tzinfo=ZoneInfo("America/Santiago")),
        "America/Santiago",
    )
)
def test_next_open_is_the_first_open_instant(scenario: tuple[BusinessHours, datetime, str]) -> None:
    hours, aware, tz = scenario
    at = aware.astimezone(UTC)  # == between zones is always False for ambiguous times (PEP 495)
    result = hours.next_open(aware, tz)
    if result is None:
        assert not any(hours.weekly.values())
        return
    assert result.tzinfo is UTC
    assert result >= at
    assert hours.status(result, tz) == "open"
    assert (result == at) == (hours.status(at, tz) == "open")
    # Status only changes on the 15-minute UTC grid here, so checking it is exhaustive.
    probe = datetime.fromtimestamp((at.timestamp() // 900 + 1) * 900, UTC)
    while probe < min(result, at + timedelta(days=3)):
        assert hours.status(probe, tz) != "open", probe
        probe += QUARTER


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2035, 1, 1),
        timezones=st.sampled_from([UTC, WAW, ZoneInfo("America/New_York")]),
    )
)
def test_demo_next_open_property(at: datetime) -> None:
    result = DEMO.next_open(at, WARSAW)
    assert result is not None
    assert result >= at
    assert DEMO.status(result, WARSAW) == "open"
    assert result - at < timedelta(days=4)


@given(st.dictionaries(st.sampled_from(DAYS), day_intervals()), st.frozensets(st.dates(), max_size=5))
def test_json_round_trip_property(
    weekly: dict[str, tuple[tuple[time, time | None], ...]], holidays: frozenset[date]
) -> None:
    hours = BusinessHours(weekly=weekly, holidays=holidays)
    assert BusinessHours.from_json(hours.to_json()) == hours


def test_set_hours_is_none_when_no_weekly_hours_were_set_or_they_cannot_be_read() -> None:
    assert set_hours(DEMO_JSON) == DEMO
    assert set_hours(None) is None and set_hours({}) is None
    assert set_hours({"holidays": ["2026-12-25"]}) is None  # holidays alone: no hours were set
    assert set_hours({"weekly": {"mon": [["25:00", "26:00"]]}}) is None
