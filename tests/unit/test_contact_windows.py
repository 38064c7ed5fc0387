from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infolinia.customers.windows import ContactWindow, WindowError, next_start, parse_window, within

WARSAW = "Europe/Warsaw"
WAW = ZoneInfo(WARSAW)
WEEKDAYS = frozenset(range(5))
WEEKENDS = frozenset({5, 6})
EVERY_DAY = frozenset(range(7))


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=WAW)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- parsing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days", "start", "end"),
    [
        ("weekdays after 18:00", WEEKDAYS, time(18), None),
        ("Weekdays  AFTER 18:00", WEEKDAYS, time(18), None),
        ("weekends", WEEKENDS, time(0), None),
        ("weekends before 12:00", WEEKENDS, time(0), time(12)),
        ("mon-fri 09:00-12:00", WEEKDAYS, time(9), time(12)),
        ("Mon-Fri 09:00 - 12:00", WEEKDAYS, time(9), time(12)),
        ("sat 10:00-14:00", frozenset({5}), time(10), time(14)),
        ("any day after 17:30", EVERY_DAY, time(17, 30), None),
        ("tue,thu after 18:00", frozenset({1, 3}), time(18), None),
        ("tue, thu after 18:00", frozenset({1, 3}), time(18), None),
        ("monday 8:00-9:30", frozenset({0}), time(8), time(9, 30)),
        ("sun 20:00-24:00", frozenset({6}), time(20), None),
        ("fri-mon after 10:00", frozenset({4, 5, 6, 0}), time(10), None),
        ("mon-wed,fri", frozenset({0, 1, 2, 4}), time(0), None),
    ],
)
def test_parse_window(text: str, days: frozenset[int], start: time, end: time | None) -> None:
    assert parse_window(text) == ContactWindow(days=days, start=start, end=end)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "whenever",
        "after 18:00",
        "weekdays after 6pm",
        "weekdays after 24:00",
        "weekdays after 18:60",
        "weekdays before 00:00",
        "mon-fri 12:00-09:00",
        "mon-fri 09:00-12:00 and sat",
        "funday 09:00-12:00",
        "mon,,tue",
        "x" * 500,
    ],
)
def test_parse_window_rejects_and_lists_accepted_forms(text: str) -> None:
    with pytest.raises(WindowError) as info:
        parse_window(text)
    message = str(info.value)
    for form in ("weekdays after 18:00", "weekends before 12:00", "mon-fri 09:00-12:00", "tue,thu after 18:00"):
        assert form in message
    assert isinstance(info.value, ValueError)


# --- JSON and labels ------------------------------------------------------------------------------


def test_json_round_trip() -> None:
    window = ContactWindow(days=frozenset({4, 0, 2}), start=time(18), end=time(21))
    assert window.to_json() == {"days": ["mon", "wed", "fri"], "start": "18:00", "end": "21:00"}
    assert ContactWindow.from_json(window.to_json()) == window


@pytest.mark.parametrize(
    "obj",
    [
        {"days": ["mon"], "start": "18:00"},
        {"days": ["mon"], "start": "18:00", "end": "24:00"},
        {"days": ["mon"], "start": "18:00", "end": None},
        {"days": ["Mon", "mon"], "start": "18:00"},
    ],
)
def test_from_json_end_of_day_forms(obj: object) -> None:
    assert ContactWindow.from_json(obj) == ContactWindow(days=frozenset({0}), start=time(18), end=None)
    assert ContactWindow.from_json(obj).to_json() == {"days": ["mon"], "start": "18:00", "end": "24:00"}


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ("weekdays", "contact window"),
        ({"days": ["mon"], "start": "18:00", "extra": 1}, "contact window: unknown field 'extra'"),
        ({"start": "18:00"}, "days"),
        ({"days": [], "start": "18:00"}, "days"),
        ({"days": "mon", "start": "18:00"}, "days"),
        ({"days": ["mon", "funday"], "start": "18:00"}, "days[1]"),
        ({"days": ["mon"]}, "start"),
        ({"days": ["mon"], "start": "25:00"}, "start"),
        ({"days": ["mon"], "start": "24:00"}, "start"),
        ({"days": ["mon"], "start": "18:00", "end": "7pm"}, "end"),
        ({"days": ["mon"], "start": "18:00", "end": "17:00"}, "start must be before end"),
    ],
)
def test_from_json_errors_name_the_field(obj: object, field: str) -> None:
    with pytest.raises(WindowError, match="^" + field.replace("[", r"\[").replace("]", r"\]")):
        ContactWindow.from_json(obj)


def test_direct_construction_is_validated() -> None:
    with pytest.raises(WindowError, match="days"):
        ContactWindow(days=frozenset(), start=time(9))
    with pytest.raises(WindowError, match="days"):
        ContactWindow(days=frozenset({7}), start=time(9))
    with pytest.raises(WindowError, match="start"):
        ContactWindow(days=WEEKDAYS, start=time(9, 0, 1))
    with pytest.raises(WindowError, match="before end"):
        ContactWindow(days=WEEKDAYS, start=time(9), end=time(9))


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("weekdays after 18:00", "Mon–Fri 18:00–24:00"),  # noqa: RUF001
        ("weekends before 12:00", "Sat–Sun 00:00–12:00"),  # noqa: RUF001
        ("any day after 17:30", "Every day 17:30–24:00"),  # noqa: RUF001
        ("tue,thu 18:00-20:00", "Tue, Thu 18:00–20:00"),  # noqa: RUF001
        ("mon-wed,fri", "Mon–Wed, Fri 00:00–24:00"),  # noqa: RUF001
        ("sat 10:00-14:00", "Sat 10:00–14:00"),  # noqa: RUF001
    ],
)
def test_label(text: str, label: str) -> None:
    assert parse_window(text).label() == label


# --- within / next_start --------------------------------------------------------------------------


EVENINGS = [parse_window("weekdays after 18:00")]


def test_within() -> None:
    assert local(2026, 6, 3, 12, 0).weekday() == 2
    assert within(EVENINGS, local(2026, 6, 3, 18, 0), WARSAW)
    assert within(EVENINGS, local(2026, 6, 3, 23, 59), WARSAW)
    assert not within(EVENINGS, local(2026, 6, 3, 17, 59), WARSAW)
    assert not within(EVENINGS, local(2026, 6, 4, 0, 0), WARSAW)
    assert not within(EVENINGS, local(2026, 6, 6, 19, 0), WARSAW)  # Saturday
    assert within(EVENINGS, utc(2026, 6, 3, 16, 0), WARSAW)  # 18:00 CEST
    assert not within(EVENINGS, utc(2026, 6, 3, 16, 0), "Europe/London")  # 17:00 BST


def test_empty_windows_mean_no_preference() -> None:
    at = local(2026, 6, 6, 3, 0)
    assert within([], at, WARSAW)
    assert next_start([], at, WARSAW) == at
    with pytest.raises(WindowError):
        within([], datetime(2026, 6, 6, 3, 0), WARSAW)
    with pytest.raises(WindowError):
        next_start([], at, "Mars/Olympus")


def test_union_of_overlapping_windows() -> None:
    windows = [parse_window("mon 09:00-12:00"), parse_window("mon 11:00-14:00"), parse_window("weekends")]
    assert within(windows, local(2026, 6, 1, 13, 30), WARSAW)
    assert not within(windows, local(2026, 6, 1, 14, 0), WARSAW)
    assert within(windows, local(2026, 6, 6, 3, 0), WARSAW)
    assert next_start(windows, local(2026, 6, 1, 8, 0), WARSAW) == local(2026, 6, 1, 9, 0)
    assert next_start(windows, local(2026, 6, 1, 14, 0), WARSAW) == local(2026, 6, 6, 0, 0)


def test_nested_and_touching_windows() -> None:
    windows = [parse_window("mon 09:00-17:00"), parse_window("mon 10:00-11:00"), parse_window("mon 17:00-18:00")]
    assert within(windows, local(2026, 6, 1, 12, 0), WARSAW)
    assert within(windows, local(2026, 6, 1, 17, 30), WARSAW)
    assert not within(windows, local(2026, 6, 1, 18, 0), WARSAW)
    assert next_start(windows, local(2026, 6, 1, 11, 30), WARSAW) == local(2026, 6, 1, 11, 30)


def test_next_start() -> None:
    inside = local(2026, 6, 5, 21, 0)
    result = next_start(EVENINGS, inside, WARSAW)
    assert result == inside
    assert result is not None and result.tzinfo is UTC
    assert next_start(EVENINGS, local(2026, 6, 5, 9, 0), WARSAW) == local(2026, 6, 5, 18, 0)
    assert next_start(EVENINGS, local(2026, 6, 6, 10, 0), WARSAW) == local(2026, 6, 8, 18, 0)
    # Across the spring DST change (2026-03-29): Monday 18:00 is CEST.
    assert next_start(EVENINGS, local(2026, 3, 28, 10, 0), WARSAW) == utc(2026, 3, 30, 16, 0)


def test_bad_zone_and_naive_datetime() -> None:
    with pytest.raises(WindowError, match="unknown time zone"):
        within(EVENINGS, utc(2026, 6, 5), "Nowhere/Town")
    with pytest.raises(WindowError, match="timezone-aware"):
        next_start(EVENINGS, datetime(2026, 6, 5), WARSAW)


# --- properties -----------------------------------------------------------------------------------


@st.composite
def windows(draw: st.DrawFn) -> ContactWindow:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    lo, hi = sorted(draw(st.lists(st.integers(0, 96), min_size=2, max_size=2, unique=True)))
    return ContactWindow(
        days=days,
        start=time(lo // 4, lo % 4 * 15),
        end=None if hi == 96 else time(hi // 4, hi % 4 * 15),
    )


ZONES = ["Europe/Warsaw", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(windows(), max_size=3),
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2040, 1, 1),
        timezones=st.sampled_from([ZoneInfo(zone) for zone in ZONES]),
    ),
    st.sampled_from(ZONES),
)
def test_next_start_is_inside_a_window(chosen: list[ContactWindow], aware: datetime, tz: str) -> None:
    at = aware.astimezone(UTC)
    result = next_start(chosen, aware, tz)
    assert result is not None
    assert result >= at
    assert within(chosen, result, tz)
    assert (result == at) == within(chosen, aware, tz)
    assert result - at <= timedelta(days=8)
    probe = datetime.fromtimestamp((at.timestamp() // 900 + 1) * 900, UTC)
    while probe < result:  # status only changes on the 15-minute grid here
        assert not within(chosen, probe, tz), probe
        probe += timedelta(minutes=15)


@given(windows())
def test_json_round_trip_property(window: ContactWindow) -> None:
    assert ContactWindow.from_json(window.to_json()) == window
