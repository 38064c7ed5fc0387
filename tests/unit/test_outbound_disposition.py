"""Dispositions, pure: each code's attempt outcome, and "call me later at HH:MM" on the customer's clock (across
midnight and the days the clocks change)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from infolinia.outbound.disposition import CODES, RETRIED, DispositionError, later_at, outcome_of
from infolinia.outbound.promise import Outcome


def test_every_code_means_an_attempt_outcome() -> None:
    assert {code: outcome_of(code) for code in CODES} == {
        "resolved": "connected", "connected": "connected", "not_interested": "connected", "later": "connected",
        "no_answer": "no_answer", "busy": "busy", "voicemail": "voicemail", "wrong_number": "wrong_number",
        "stop": "stop",
    }  # fmt: skip
    assert all(Outcome(outcome_of(code)) for code in CODES)
    assert {"no_answer", "busy", "voicemail"} == RETRIED
    with pytest.raises(DispositionError):
        outcome_of("maybe")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "hhmm", "zone", "day", "expected"),
    [
        (utc(2026, 12, 7, 12, 0), "18:30", "Europe/Warsaw", None, utc(2026, 12, 7, 17, 30)),  # later today
        (utc(2026, 12, 7, 12, 0), "9:15", "Europe/Warsaw", None, utc(2026, 12, 8, 8, 15)),  # passed: tomorrow
        (utc(2026, 12, 7, 12, 0), "13:00", "Europe/Warsaw", None, utc(2026, 12, 8, 12, 0)),  # now exactly: tomorrow
        (utc(2026, 12, 7, 23, 30), "09:00", "Asia/Tokyo", None, utc(2026, 12, 8, 0, 0)),  # 08:30 on the 8th in Tokyo
        (utc(2026, 12, 7, 12, 0), "09:00", "America/New_York", None, utc(2026, 12, 7, 14, 0)),
        (utc(2026, 12, 7, 12, 0), "10:00", "Europe/Warsaw", date(2026, 12, 24), utc(2026, 12, 24, 9, 0)),
        (utc(2026, 3, 28, 12, 0), "10:00", "Europe/Warsaw", None, utc(2026, 3, 29, 8, 0)),  # summer time begins
        (utc(2026, 3, 28, 12, 0), "02:30", "Europe/Warsaw", None, utc(2026, 3, 29, 1, 30)),  # the skipped hour
        (utc(2026, 10, 24, 12, 0), "10:00", "Europe/Warsaw", None, utc(2026, 10, 25, 9, 0)),  # winter time again
    ],
)
def test_later_is_read_on_the_customer_s_clock(
    now: datetime, hhmm: str, zone: str, day: date | None, expected: datetime
) -> None:
    assert later_at(now, hhmm, zone, day) == expected


@pytest.mark.parametrize(
    ("hhmm", "day", "message"),
    [
        ("24:00", None, "HH:MM"),
        ("7pm", None, "HH:MM"),
        ("12:60", None, "HH:MM"),
        ("", None, "HH:MM"),
        ("10:00", date(2026, 12, 6), "has passed"),
        ("10:00", date(2026, 12, 7), "has passed"),  # today, but 10:00 in Warsaw was an hour ago
        ("23:59", date(9999, 12, 31), "out of range|a year ahead"),
        ("10:00", date(2027, 12, 31), "a year ahead"),
    ],
)
def test_bad_times_are_refused_with_the_reason(hhmm: str, day: date | None, message: str) -> None:
    with pytest.raises(DispositionError, match=message):
        later_at(utc(2026, 12, 7, 10, 0), hhmm, "Europe/Warsaw", day)


def test_now_must_be_aware() -> None:
    with pytest.raises(DispositionError):
        later_at(datetime(2026, 12, 7, 10, 0), "11:00", "UTC")
