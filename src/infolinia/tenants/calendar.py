"""A tenant's business-hours calendar: weekly opening hours in local wall-clock time, plus holidays.

JSON form::

    {"weekly": {"mon": [["08:00", "20:00"]], "sat": [["09:00", "14:00"]]}, "holidays": ["2026-12-25"]}

A missing day is closed. An interval's end may be ``"24:00"`` (held as ``None``: end of day); intervals
do not cross midnight. Times have minute resolution.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DAYS", "SEARCH_DAYS", "BusinessHours", "CalendarError", "Interval", "Status", "set_hours"]

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 400

Interval = tuple[time, time | None]
Status = Literal["open", "closed", "holiday"]

_CLOCK = re.compile(r"(\d{2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CalendarError(ValueError):
    """An invalid calendar, time zone or instant."""


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per day (``DAYS`` keys; intervals sorted, non-overlapping) and holiday dates."""

    weekly: Mapping[str, tuple[Interval, ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not isinstance(self.weekly, Mapping):
            raise CalendarError("weekly: expected a mapping of day -> intervals")
        unknown = sorted(str(key) for key in self.weekly if key not in DAYS)
        if unknown:
            raise CalendarError(f"weekly: unknown day {unknown[0]!r}; expected one of {', '.join(DAYS)}")
        weekly = {day: _check_intervals(day, self.weekly[day]) for day in DAYS if self.weekly.get(day)}
        for holiday in self.holidays:
            if not isinstance(holiday, date) or isinstance(holiday, datetime):
                raise CalendarError(f"holidays: {holiday!r} is not a date")
        object.__setattr__(self, "weekly", MappingProxyType(weekly))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    def __hash__(self) -> int:
        return hash((tuple(self.weekly.items()), self.holidays))

    # --- JSON -----------------------------------------------------------------------------------------

    @classmethod
    def from_json(cls, obj: object) -> BusinessHours:
        """Parse the JSON form; raise ``CalendarError`` naming the offending field."""
        if not isinstance(obj, Mapping):
            raise CalendarError("calendar: expected an object with 'weekly' and 'holidays'")
        extra = sorted(str(key) for key in obj if key not in ("weekly", "holidays"))
        if extra:
            raise CalendarError(f"calendar: unknown field {extra[0]!r}")
        raw_weekly = obj.get("weekly", {})
        if not isinstance(raw_weekly, Mapping):
            raise CalendarError("weekly: expected an object keyed by day (mon..sun)")
        weekly: dict[str, tuple[Interval, ...]] = {}
        for day, raw_intervals in raw_weekly.items():
            if day not in DAYS:
                raise CalendarError(f"weekly: unknown day {day!r}; expected one of {', '.join(DAYS)}")
            if not isinstance(raw_intervals, list | tuple):
                raise CalendarError(f"weekly.{day}: expected a list of [start, end] pairs")
            weekly[day] = tuple(_parse_interval(raw, f"weekly.{day}[{i}]") for i, raw in enumerate(raw_intervals))
        raw_holidays = obj.get("holidays", [])
        if not isinstance(raw_holidays, list | tuple):
            raise CalendarError("holidays: expected a list of YYYY-MM-DD dates")
        holidays = frozenset(_parse_date(raw, f"holidays[{i}]") for i, raw in enumerate(raw_holidays))
        return cls(weekly=weekly, holidays=holidays)

    def to_json(self) -> dict[str, object]:
        """The JSON form: open days only, intervals sorted, holidays sorted."""
        return {
            "weekly": {
                day: [[_format_clock(start), _format_clock(end)] for start, end in intervals]
                for day, intervals in self.weekly.items()
            },
            "holidays": [holiday.isoformat() for holiday in sorted(self.holidays)],
        }

    # --- queries --------------------------------------------------------------------------------------

    def status(self, at: datetime, tz: str) -> Status:
        """Whether the tenant in zone ``tz`` is open at the aware instant ``at``."""
        return self._status_local(_to_local(at, _zone(tz)))

    def next_open(self, at: datetime, tz: str) -> datetime | None:
        """The first instant (in UTC) at or after ``at`` when open; ``None`` if never open within
        ``SEARCH_DAYS`` days."""
        zone = _zone(tz)
        local = _to_local(at, zone)
        if self._status_local(local) == "open":
            return at.astimezone(UTC)
        if not self.weekly:
            return None
        start = at.astimezone(UTC)
        for offset in range(SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            if day in self.holidays or DAYS[day.weekday()] not in self.weekly:
                continue
            for candidate in sorted(self._candidates(day, zone)):
                if candidate >= start and self._status_local(candidate.astimezone(zone)) == "open":
                    return candidate
        return None

    def _status_local(self, local: datetime) -> Status:
        if local.date() in self.holidays:
            return "holiday"
        wall = local.time().replace(fold=0)
        for start, end in self.weekly.get(DAYS[local.weekday()], ()):
            if start <= wall and (end is None or wall < end):
                return "open"
        return "closed"

    def _candidates(self, day: date, zone: ZoneInfo) -> Iterator[datetime]:
        """UTC instants on local ``day`` where the status can turn to open: each existing instant of an
        interval's start wall time, and any UTC-offset transition (the wall clock jumps)."""
        for start, _end in self.weekly[DAYS[day.weekday()]]:
            yield from _wall_instants(datetime.combine(day, start), zone)
        yield from _transitions(day, zone)


# --- helpers ------------------------------------------------------------------------------------------


def set_hours(raw: Mapping[str, object] | None) -> BusinessHours | None:
    """The hours a tenant set, or None when it set none (a calendar without weekly hours) or they cannot be read:
    then it is always open (a new tenant is not closed for good before anyone wrote its hours)."""
    try:
        hours = BusinessHours.from_json(raw or {})
    except CalendarError as error:
        log.warning("unreadable business hours (%s): treated as always open", error)
        return None
    return hours if hours.weekly else None


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"tz: unknown time zone {tz!r}") from exc


def _to_local(at: datetime, zone: ZoneInfo) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise CalendarError("at: expected a timezone-aware datetime")
    return at.astimezone(UTC).astimezone(zone)  # via UTC: astimezone() to the same zone is a no-op


def _wall_instants(wall: datetime, zone: ZoneInfo) -> Iterator[datetime]:
    """The UTC instants whose local wall time is ``wall``: none (DST gap), one, or two (DST fold)."""
    for instant in sorted(set(_wall_to_utc(wall, zone))):
        if instant.astimezone(zone).replace(tzinfo=None, fold=0) == wall:
            yield instant


def _transitions(day: date, zone: ZoneInfo) -> Iterator[datetime]:
    """The UTC instant at which the zone's offset changes during local ``day`` (at most one is found)."""
    lo = int(min(_wall_to_utc(datetime.combine(day, time()), zone)).timestamp())
    hi = int(max(_wall_to_utc(datetime.combine(day + timedelta(days=1), time()), zone)).timestamp())
    before = _offset_at(lo, zone)
    if before == _offset_at(hi, zone):
        return
    while hi - lo > 1:  # bisect, to the second, for the first instant with the new offset
        mid = (lo + hi) // 2
        if _offset_at(mid, zone) == before:
            lo = mid
        else:
            hi = mid
    yield datetime.fromtimestamp(hi, UTC)


def _wall_to_utc(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    return [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]


def _offset_at(timestamp: int, zone: ZoneInfo) -> timedelta | None:
    return datetime.fromtimestamp(timestamp, zone).utcoffset()


def _check_intervals(day: str, intervals: object) -> tuple[Interval, ...]:
    if not isinstance(intervals, tuple | list):
        raise CalendarError(f"weekly.{day}: expected a sequence of (start, end) pairs")
    checked: list[Interval] = []
    for i, interval in enumerate(intervals):
        where = f"weekly.{day}[{i}]"
        if not isinstance(interval, tuple | list) or len(interval) != 2:
            raise CalendarError(f"{where}: expected a (start, end) pair")
        start, end = interval
        if not _is_clock(start):
            raise CalendarError(f"{where}: start must be a naive whole-minute time, got {start!r}")
        if end is not None and not _is_clock(end):
            raise CalendarError(f"{where}: end must be a naive whole-minute time or None, got {end!r}")
        if end is not None and not start < end:
            span = f"{_format_clock(start)}-{_format_clock(end)}"
            raise CalendarError(f"{where}: start must be before end, got {span}")
        checked.append((start, end))
    checked.sort(key=lambda interval: interval[0])
    for (_, prev_end), (start, end) in pairwise(checked):
        if prev_end is None or start < prev_end:
            raise CalendarError(
                f"weekly.{day}: interval {_format_clock(start)}-{_format_clock(end)} overlaps the one before"
            )
    return tuple(checked)


def _is_clock(value: object) -> bool:
    return (
        isinstance(value, time)
        and value.tzinfo is None
        and value.second == 0
        and value.microsecond == 0
        and value.fold == 0
    )


def _parse_interval(raw: object, where: str) -> Interval:
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise CalendarError(f'{where}: expected ["HH:MM", "HH:MM"], got {raw!r}')
    start = _parse_clock(raw[0], f"{where}.start", allow_24=False)
    end = _parse_clock(raw[1], f"{where}.end", allow_24=True)
    assert start is not None  # allow_24=False never yields None
    return start, end


def _parse_clock(raw: object, where: str, *, allow_24: bool) -> time | None:
    """``"HH:MM"`` -> time; ``"24:00"`` -> None (end of day) when ``allow_24``."""
    match = _CLOCK.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        raise CalendarError(f"{where}: expected a time as HH:MM, got {raw!r}")
    hour, minute = int(match[1]), int(match[2])
    if allow_24 and (hour, minute) == (24, 0):
        return None
    if hour > 23 or minute > 59:
        raise CalendarError(f"{where}: {raw!r} is not a valid time of day")
    return time(hour, minute)


def _parse_date(raw: object, where: str) -> date:
    if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
        raise CalendarError(f"{where}: expected a date as YYYY-MM-DD, got {raw!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CalendarError(f"{where}: {raw!r} is not a valid date") from exc


def _format_clock(value: time | None) -> str:
    return "24:00" if value is None else f"{value.hour:02d}:{value.minute:02d}"
