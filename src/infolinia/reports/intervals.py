"""Report intervals in the tenant's time zone, pure.

The database groups contacts by 15-minute UTC slot (``SLOT_S``); every interval a report offers is a whole number of
slots in any time zone whose offset from UTC is a multiple of 15 minutes (all of today's zones), so merging the slots
of an interval is exact. Intervals follow the tenant's wall clock: a day is from local midnight to local midnight
(23 or 25 hours on the days the clocks change), a week starts on Monday, a month on its first day; 15/30/60-minute
intervals start at :00, :15, :30, :45 local time, and the hour repeated when the clocks go back is two intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["INTERVALS", "SLOT_S", "Bucket", "bucket_start", "buckets", "local_midnight"]

SLOT_S = 900
#: interval name -> its length in minutes (None: a calendar interval)
INTERVALS: dict[str, int | None] = {"15min": 15, "30min": 30, "60min": 60, "day": None, "week": None, "month": None}
#: the most intervals one report holds
MAX_BUCKETS = 10_000


@dataclass(frozen=True)
class Bucket:
    start: datetime  # UTC
    end: datetime  # UTC
    label: str  # its local start, ISO 8601 with the offset


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of ``day`` on the zone's wall clock, in UTC (a midnight the clocks skip: the hour after)."""
    naive = datetime(day.year, day.month, day.day)
    aware = naive.replace(tzinfo=tz)
    back = aware.astimezone(UTC).astimezone(tz)
    if back.replace(tzinfo=None) != naive:  # it does not exist on that day's clock
        aware = (naive + timedelta(hours=1)).replace(tzinfo=tz)
    return aware.astimezone(UTC)


def _first_day(local: date, interval: str) -> date:
    if interval == "week":
        return local - timedelta(days=local.weekday())
    if interval == "month":
        return local.replace(day=1)
    return local


def bucket_start(at: datetime, interval: str, tz: ZoneInfo) -> datetime:
    """The UTC start of the interval that holds the instant ``at``."""
    local = at.astimezone(tz)
    minutes = INTERVALS[interval]
    if minutes is not None:
        floor = timedelta(minutes=local.minute % minutes, seconds=local.second, microseconds=local.microsecond)
        return (at - floor).astimezone(UTC)
    return local_midnight(_first_day(local.date(), interval), tz)


def _next(start: datetime, interval: str, tz: ZoneInfo) -> datetime:
    minutes = INTERVALS[interval]
    if minutes is not None:
        return start + timedelta(minutes=minutes)
    day = start.astimezone(tz).date()
    if interval == "day":
        return local_midnight(day + timedelta(days=1), tz)
    if interval == "week":
        return local_midnight(day + timedelta(days=7), tz)
    month = day.replace(day=28) + timedelta(days=4)
    return local_midnight(month.replace(day=1), tz)


def buckets(start: datetime, end: datetime, interval: str, tz: ZoneInfo) -> list[Bucket]:
    """The intervals that [start, end) touches, in order (the first and last may reach beyond it).
    ``ValueError`` when there would be more than ``MAX_BUCKETS``."""
    out: list[Bucket] = []
    at = bucket_start(start, interval, tz)
    while at < end:
        following = _next(at, interval, tz)
        out.append(Bucket(at, following, at.astimezone(tz).isoformat()))
        if len(out) > MAX_BUCKETS:
            raise ValueError(f"more than {MAX_BUCKETS} intervals")
        at = following
    return out


def slot_of(at: datetime) -> int:
    """The 15-minute UTC slot number of an instant (seconds since 1970 // 900)."""
    return int(at.timestamp()) // SLOT_S


def slot_start(slot: int) -> datetime:
    return datetime.fromtimestamp(slot * SLOT_S, UTC)
