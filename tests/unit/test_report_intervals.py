"""Report intervals on the tenant's clock (``reports/intervals.py``) and the exports' escaping (``reports/export.py``),
pure."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from infolinia.reports.export import chart_svg, to_csv
from infolinia.reports.figures import Figures
from infolinia.reports.intervals import INTERVALS, SLOT_S, bucket_start, buckets, slot_of, slot_start

WARSAW = ZoneInfo("Europe/Warsaw")


def test_the_day_the_clocks_go_back_has_25_hours_and_its_repeated_hour_is_two_intervals() -> None:
    start, end = datetime(2026, 10, 24, 22, tzinfo=UTC), datetime(2026, 10, 25, 23, tzinfo=UTC)  # 25-26 Oct local
    days = buckets(start, end, "day", WARSAW)
    assert [(d.label, (d.end - d.start) / timedelta(hours=1)) for d in days] == [("2026-10-25T00:00:00+02:00", 25.0)]
    hours = buckets(start, end, "60min", WARSAW)
    labels = [h.label for h in hours]
    assert len(hours) == 25 and labels.count("2026-10-25T02:00:00+02:00") == 1
    assert "2026-10-25T02:00:00+01:00" in labels  # the same wall-clock hour again, after the change


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    at = datetime(2026, 11, 5, 12, tzinfo=UTC)  # a Thursday
    assert bucket_start(at, "week", WARSAW) == datetime(2026, 11, 1, 23, tzinfo=UTC)  # Monday 2 Nov, local midnight
    assert bucket_start(at, "month", WARSAW) == datetime(2026, 10, 31, 23, tzinfo=UTC)
    march = buckets(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC), "month", WARSAW)
    assert [(m.label, m.start, m.end) for m in march] == [
        ("2026-03-01T00:00:00+01:00", datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC))
    ]  # a month with the change to summer time: it ends at midnight +02:00


@pytest.mark.parametrize("zone", ["Asia/Kathmandu", "Asia/Kolkata", "America/St_Johns", "Europe/Warsaw", "UTC"])
@pytest.mark.parametrize("interval", list(INTERVALS))
def test_every_slot_falls_in_one_interval_whole(zone: str, interval: str) -> None:
    """A 15-minute UTC slot never straddles two intervals, in zones with :30 and :45 offsets too: merging slots is
    exact."""
    tz = ZoneInfo(zone)
    start = datetime(2026, 3, 27, tzinfo=UTC)
    for n in range(0, 4 * 24 * 5):
        slot = slot_of(start) + n
        first, last = slot_start(slot), slot_start(slot) + timedelta(seconds=SLOT_S - 1)
        assert bucket_start(first, interval, tz) == bucket_start(last, interval, tz)


def test_too_many_intervals_are_refused() -> None:
    with pytest.raises(ValueError):
        buckets(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "15min", WARSAW)


def test_csv_cells_that_look_like_formulas_are_defused() -> None:
    text = to_csv(["group_name", "offered"], [{"group_name": "=HYPERLINK(1)", "offered": 3}])
    assert list(csv.reader(io.StringIO(text))) == [["group_name", "offered"], ["'=HYPERLINK(1)", "3"]]


def test_the_chart_escapes_every_text() -> None:
    svg = chart_svg('<script>alert("x")</script> & co', ["a<b", "c"], [0.5, None], " %")
    root = ET.fromstring(svg)
    assert root.findtext("{http://www.w3.org/2000/svg}title") == '<script>alert("x")</script> & co'
    assert "<script>" not in svg


def test_rates_leave_short_abandons_out() -> None:
    f = Figures(offered=10, answered=6, abandoned=4, short_abandoned=2, answered_in_sl=4, wait_ms=60_000, handled=6,
                talk_ms=600_000, hold_ms=60_000, wrap_ms=60_000, staffed_ms=3_600_000)  # fmt: skip
    out = f.to_json()
    assert (out["abandoned"], out["service_level"], out["abandon_rate"]) == (2, 0.5, 0.25)
    assert (out["asa_s"], out["aht_s"], out["occupancy"]) == (10.0, 120.0, 0.2)
