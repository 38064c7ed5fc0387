"""Case service-level (SLA) timers measured in a tenant's business hours, pure: no clock, no I/O.

Business time is the time during which the tenant's :class:`~infolinia.tenants.calendar.BusinessHours` say
"open" in its zone: exactly the instants at which ``hours.status(at, tz) == "open"``. Holidays and nights do not
count; ``hours=None`` means calendar time (the clock always runs). Across a DST change an interval counts the real
time during which the local wall clock reads inside it: 00:00-06:00 is 5 h on a spring-forward day and 7 h on a
fall-back day. A wall time that does not exist (in the spring gap) moves forward to the instant the clock jumps,
as ``status``/``next_open`` do (an interval 02:30-04:00 in Warsaw on 2026-03-29 opens at 03:00 CEST; this is *not*
zoneinfo's fold=0 reading, which would put it at 03:30); a wall time that occurs twice (in the autumn fold) counts
on both passes.

A timer (:class:`SlaClock`) allows ``target`` of business time. It runs from ``start``; ``pause`` (e.g. while the
case is pending the customer) folds the running segment into ``consumed`` and stops the clock until ``resume``;
``stop`` (the case is answered or closed) freezes it for good. Its state at an instant is:

* ``running``: running, under ``warn_fraction`` (default 80 %) of the target;
* ``warning``: running, at or over ``warn_fraction`` of the target but not over the target;
* ``breached``: running or paused with more business time elapsed than the target;
* ``paused``: paused, not over the target;
* ``met`` / ``missed``: stopped within / over the target.

JSON form (for a database row; instants as ISO 8601 in UTC with an offset, durations as seconds)::

    {"target_seconds": 14400, "consumed_seconds": 3600.5,
     "running_since": "2026-06-05T13:00:00+00:00", "stopped_at": null}

Statutory deadlines counted in calendar days (a complaint answered within 14 or 30 days) use
:func:`calendar_deadline` instead.

All instants in must be timezone-aware; instants out are in UTC. Bad input raises :class:`SlaError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from infolinia.tenants.calendar import (
    DAYS,
    SEARCH_DAYS,
    BusinessHours,
    CalendarError,
    Interval,
    _transitions,
    _wall_to_utc,
    _zone,
)

__all__ = ["SlaClock", "SlaError", "SlaState", "add_working", "calendar_deadline", "working_time"]

SlaState = Literal["running", "warning", "breached", "paused", "met", "missed"]
Segment = tuple[datetime, datetime]  # [start, end) in UTC

_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
_FIELDS = ("target_seconds", "consumed_seconds", "running_since", "stopped_at")


class SlaError(ValueError):
    """An invalid SLA timer, duration, time zone or instant."""


# --- business time -----------------------------------------------------------------------------------


def working_time(start: datetime, end: datetime, hours: BusinessHours | None, tz: str) -> timedelta:
    """Business time in ``[start, end)`` (zero when ``end <= start``); ``hours=None``: calendar time."""
    start, end = _utc(start, "start"), _utc(end, "end")
    zone = _tz(tz)
    if end <= start:
        return _ZERO
    if hours is None:
        return end - start
    first = start.astimezone(zone).date() - _DAY  # an instant can fall back onto the date before (a midnight fold)
    days = (end.astimezone(zone).date() - first).days + 1
    total = _ZERO
    for lo, hi in _open_segments(hours, zone, first, days):
        if lo >= end:
            break
        if hi > start:
            total += min(hi, end) - max(lo, start)
    return total


def add_working(start: datetime, work: timedelta, hours: BusinessHours | None, tz: str) -> datetime | None:
    """The first instant (UTC) at which ``work`` of business time has elapsed since ``start``.

    ``work == 0`` gives ``start`` itself, open or not. The exact inverse of :func:`working_time`:
    ``working_time(start, add_working(start, w)) == w``. None when the calendar does not offer ``work`` within
    ``SEARCH_DAYS`` days of ``start`` (e.g. it is never open); ``hours=None`` adds calendar time.
    """
    start = _utc(start, "start")
    zone = _tz(tz)
    if not isinstance(work, timedelta) or work < _ZERO:
        raise SlaError(f"work: expected a non-negative timedelta, got {work!r}")
    if work == _ZERO:
        return start
    if hours is None:
        return start + work
    if not hours.weekly:
        return None
    limit = start + timedelta(days=SEARCH_DAYS)
    first = start.astimezone(zone).date() - _DAY
    days = (limit.astimezone(zone).date() - first).days + 1
    left = work
    for lo, hi in _open_segments(hours, zone, first, days):
        lo, hi = max(lo, start), min(hi, limit)
        if lo >= limit:
            break
        if hi <= lo:
            continue
        if left <= hi - lo:
            return lo + left
        left -= hi - lo
    return None


def calendar_deadline(start: datetime, days: int, tz: str) -> datetime:
    """The end of the local day ``days`` calendar days after ``start``'s local date in zone ``tz``: the next local
    midnight after that day, in UTC (``days=0``: the end of the start's own day).

    If that midnight does not exist (a DST gap at midnight), the day ends when the clock jumps; if it occurs twice
    (the clock falls back from 00:00 to 23:00), the later one: the last day lasts until its last instant.
    """
    start = _utc(start, "start")
    zone = _tz(tz)
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise SlaError(f"days: expected a non-negative whole number of days, got {days!r}")
    try:
        last = start.astimezone(zone).date() + timedelta(days=days)
    except OverflowError as exc:
        raise SlaError(f"days: {days} days after {start.isoformat()} is out of range") from exc
    return max(hi for _lo, hi in _day_segments(last, ((_MIDNIGHT, None),), zone))


# --- the timer ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaClock:
    """The persistent state of one SLA timer (see the module's docstring); methods return new instances.

    ``consumed`` is business time used in earlier running segments; ``running_since`` is the start of the current
    segment (None: paused or stopped); ``stopped_at`` is set once the timer is stopped (met or missed).
    """

    target: timedelta
    consumed: timedelta = _ZERO
    running_since: datetime | None = None
    stopped_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("target", "consumed"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value < _ZERO:
                raise SlaError(f"{name}: expected a non-negative timedelta, got {value!r}")
        for name in ("running_since", "stopped_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _utc(value, name))
        if self.running_since is not None and self.stopped_at is not None:
            raise SlaError("running_since: a stopped timer cannot be running (stopped_at is set)")

    @classmethod
    def start(cls, at: datetime, target: timedelta) -> SlaClock:
        """A timer running from ``at`` with ``target`` of business time allowed."""
        return cls(target=target, running_since=at)

    @property
    def running(self) -> bool:
        return self.running_since is not None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    def pause(self, at: datetime, hours: BusinessHours | None, tz: str) -> SlaClock:
        """Stop the clock at ``at`` until :meth:`resume`; a paused timer stays as it is; a stopped one refuses."""
        at = _utc(at, "at")
        if self.stopped_at is not None:
            raise SlaError(f"at: the timer was stopped at {self.stopped_at.isoformat()} and cannot be paused")
        if self.running_since is None:
            return self
        return SlaClock(self.target, self.consumed + self._segment(at, hours, tz))

    def resume(self, at: datetime) -> SlaClock:
        """Run the clock again from ``at``; a running timer stays as it is; a stopped one refuses."""
        at = _utc(at, "at")
        if self.stopped_at is not None:
            raise SlaError(f"at: the timer was stopped at {self.stopped_at.isoformat()} and cannot be resumed")
        if self.running_since is not None:
            return self
        return SlaClock(self.target, self.consumed, running_since=at)

    def stop(self, at: datetime, hours: BusinessHours | None, tz: str) -> SlaClock:
        """Stop for good at ``at`` (the case is answered or closed), freezing ``consumed``; idempotent."""
        at = _utc(at, "at")
        if self.stopped_at is not None:
            return self
        consumed = self.consumed if self.running_since is None else self.consumed + self._segment(at, hours, tz)
        return SlaClock(self.target, consumed, stopped_at=at)

    def elapsed(self, at: datetime, hours: BusinessHours | None, tz: str) -> timedelta:
        """Business time used up to ``at``."""
        at = _utc(at, "at")
        if self.running_since is None:
            return self.consumed
        return self.consumed + self._segment(at, hours, tz)

    def remaining(self, at: datetime, hours: BusinessHours | None, tz: str) -> timedelta:
        """Business time left at ``at``; negative once breached."""
        return self.target - self.elapsed(at, hours, tz)

    def due_at(self, hours: BusinessHours | None, tz: str) -> datetime | None:
        """When the target is used up if the clock keeps running: breached after this instant. None while paused or
        stopped, or when the calendar does not open in time. If the target was used up before the current running
        segment, the segment's start (already past)."""
        if self.running_since is None:
            return None
        return add_working(self.running_since, max(self.target - self.consumed, _ZERO), hours, tz)

    def warn_at(self, hours: BusinessHours | None, tz: str, warn_fraction: float = 0.8) -> datetime | None:
        """When ``warn_fraction`` of the target is used up if the clock keeps running (the state turns
        ``warning``). None while paused or stopped, when that point was already passed before the current running
        segment, or when the calendar does not open in time."""
        threshold = self._threshold(warn_fraction)
        if self.running_since is None or self.consumed >= threshold:
            return None
        return add_working(self.running_since, threshold - self.consumed, hours, tz)

    def state(self, at: datetime, hours: BusinessHours | None, tz: str, warn_fraction: float = 0.8) -> SlaState:
        """The timer's state at ``at`` (see the module's docstring)."""
        threshold = self._threshold(warn_fraction)
        if self.stopped_at is not None:
            _utc(at, "at")
            return "met" if self.consumed <= self.target else "missed"
        elapsed = self.elapsed(at, hours, tz)
        if elapsed > self.target:
            return "breached"
        if self.running_since is None:
            return "paused"
        return "warning" if elapsed >= threshold else "running"

    # --- JSON -------------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, object]:
        """The JSON form (see the module's docstring)."""
        return {
            "target_seconds": _seconds(self.target),
            "consumed_seconds": _seconds(self.consumed),
            "running_since": None if self.running_since is None else self.running_since.isoformat(),
            "stopped_at": None if self.stopped_at is None else self.stopped_at.isoformat(),
        }

    @classmethod
    def from_json(cls, obj: object) -> SlaClock:
        """Parse the JSON form; raise ``SlaError`` naming the offending field."""
        if not isinstance(obj, Mapping):
            raise SlaError(f"sla: expected an object with {', '.join(_FIELDS)}")
        extra = sorted(str(key) for key in obj if key not in _FIELDS)
        if extra:
            raise SlaError(f"sla: unknown field {extra[0]!r}")
        missing = [name for name in _FIELDS if name not in obj]
        if missing:
            raise SlaError(f"{missing[0]}: required")
        return cls(
            target=_parse_seconds(obj["target_seconds"], "target_seconds"),
            consumed=_parse_seconds(obj["consumed_seconds"], "consumed_seconds"),
            running_since=_parse_instant(obj["running_since"], "running_since"),
            stopped_at=_parse_instant(obj["stopped_at"], "stopped_at"),
        )

    # --- helpers ----------------------------------------------------------------------------------------

    def _segment(self, at: datetime, hours: BusinessHours | None, tz: str) -> timedelta:
        assert self.running_since is not None
        if at < self.running_since:
            since = self.running_since.isoformat()
            raise SlaError(f"at: {at.isoformat()} is before the clock started running at {since}")
        return working_time(self.running_since, at, hours, tz)

    def _threshold(self, warn_fraction: float) -> timedelta:
        if isinstance(warn_fraction, bool) or not isinstance(warn_fraction, int | float) or not 0 < warn_fraction < 1:
            raise SlaError(f"warn_fraction: expected a number between 0 and 1 (exclusive), got {warn_fraction!r}")
        return self.target * warn_fraction


# --- helpers ------------------------------------------------------------------------------------------


def _open_segments(hours: BusinessHours, zone: ZoneInfo, first: date, days: int) -> Iterator[Segment]:
    """The open stretches of local dates ``first`` .. ``first + days - 1``, in UTC order.

    After date ``day`` is read, every stretch still to come starts at or after the first instant of ``day + 1``, so
    pending stretches that start before it are let out (only a midnight fold makes two dates interleave)."""
    pending: list[Segment] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        intervals = hours.weekly.get(DAYS[day.weekday()])
        if intervals and day not in hours.holidays:
            pending.extend(_day_segments(day, intervals, zone))
            pending.sort()
        if pending:
            horizon = _pieces(day + _DAY, zone)[0][0]
            while pending and pending[0][0] < horizon:
                yield pending.pop(0)
    yield from pending


def _day_segments(day: date, intervals: tuple[Interval, ...], zone: ZoneInfo) -> Iterator[Segment]:
    """The UTC stretches during which the local date is ``day`` and the wall clock reads inside ``intervals``."""
    for lo, hi, offset in _pieces(day, zone):
        for start, end in intervals:
            wall_start = datetime.combine(day, start)
            wall_end = datetime.combine(day + _DAY, _MIDNIGHT) if end is None else datetime.combine(day, end)
            begin = max(lo, (wall_start - offset).replace(tzinfo=UTC))
            finish = min(hi, (wall_end - offset).replace(tzinfo=UTC))
            if begin < finish:
                yield begin, finish


@lru_cache(maxsize=4096)
def _pieces(day: date, zone: ZoneInfo) -> tuple[tuple[datetime, datetime, timedelta], ...]:
    """UTC spans, each with one UTC offset, that together hold every instant of local ``day`` (at most one offset
    change a day, as in the calendar); the first starts no later than the day's first instant. Memoized: it
    depends on the zone's rules only."""
    lo = min(_wall_to_utc(datetime.combine(day, _MIDNIGHT), zone))
    hi = max(_wall_to_utc(datetime.combine(day + _DAY, _MIDNIGHT), zone))
    before, after = _offset(lo, zone), _offset(hi, zone)
    if before == after:
        return ((lo, hi, before),)
    change = next(_transitions(day, zone), None)
    if change is None:  # pragma: no cover - the calendar finds a change whenever the two offsets differ
        return ((lo, hi, before),)
    return ((lo, change, before), (change, hi, after))


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has an offset
    return offset


def _utc(at: object, name: str) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise SlaError(f"{name}: expected a timezone-aware datetime, got {at!r}")
    return at.astimezone(UTC)


def _tz(tz: str) -> ZoneInfo:
    try:
        return _zone(tz)
    except CalendarError as exc:
        raise SlaError(str(exc)) from exc


def _seconds(value: timedelta) -> int | float:
    whole, micros = divmod(value // timedelta(microseconds=1), 1_000_000)
    return whole if micros == 0 else value.total_seconds()


def _parse_seconds(raw: object, name: str) -> timedelta:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or raw < 0:
        raise SlaError(f"{name}: expected a non-negative number of seconds, got {raw!r}")
    try:
        return timedelta(seconds=raw)
    except OverflowError as exc:
        raise SlaError(f"{name}: {raw!r} seconds is out of range") from exc


def _parse_instant(raw: object, name: str) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise SlaError(f"{name}: expected an ISO 8601 date-time with an offset or null, got {raw!r}")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise SlaError(f"{name}: {raw!r} is not an ISO 8601 date-time") from exc
    if parsed.tzinfo is None:
        raise SlaError(f"{name}: {raw!r} has no UTC offset")
    return parsed.astimezone(UTC)
