"""A customer's preferred contact windows, such as "weekdays after 18:00", in the tenant's local time.

JSON form: ``{"days": ["mon", "tue"], "start": "18:00", "end": "21:00"}``; ``end`` may be omitted or
``"24:00"`` (held as ``None``: end of day). Windows do not cross midnight.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from infolinia.tenants.calendar import DAYS, BusinessHours, CalendarError, Interval

__all__ = ["ContactWindow", "WindowError", "first_allowed", "next_start", "parse_window", "stored", "within"]

_MEET_ROUNDS = 30  # alternations of windows and hours tried before deciding they never meet

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_DASH = "\u2013"  # en dash, for labels
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NAMES = {name: i for names in (DAYS, _FULL_NAMES) for i, name in enumerate(names)}
_DAY_GROUPS = {
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
    "weekend": frozenset({5, 6}),
    "any day": frozenset(range(7)),
    "every day": frozenset(range(7)),
    "daily": frozenset(range(7)),
}
_AFTER = re.compile(r"(?P<days>.+?) after (?P<start>\S+)")
_BEFORE = re.compile(r"(?P<days>.+?) before (?P<end>\S+)")
_BETWEEN = re.compile(r"(?P<days>.+?) (?P<start>\d{1,2}:\d{2}) ?[-\u2013] ?(?P<end>\d{1,2}:\d{2})")
_EXAMPLES = (
    "'weekdays after 18:00', 'weekends', 'weekends before 12:00', 'mon-fri 09:00-12:00', "
    "'sat 10:00-14:00', 'any day after 17:30', 'tue,thu after 18:00'"
)


class WindowError(ValueError):
    """An invalid contact window, time zone or instant."""


@dataclass(frozen=True)
class ContactWindow:
    """Days (0=Mon..6=Sun) and a daily local time range ``[start, end)``; ``end=None`` is end of day."""

    days: frozenset[int]
    start: time
    end: time | None = None

    def __post_init__(self) -> None:
        if not self.days or not all(isinstance(d, int) and 0 <= d <= 6 for d in self.days):
            raise WindowError(f"days: expected a non-empty set of weekdays 0..6, got {set(self.days)!r}")
        object.__setattr__(self, "days", frozenset(self.days))
        for name, value in (("start", self.start), ("end", self.end)):
            if value is None and name == "end":
                continue
            if not isinstance(value, time) or value.tzinfo or value.second or value.microsecond:
                raise WindowError(f"{name}: expected a naive whole-minute time, got {value!r}")
        if self.end is not None and not self.start < self.end:
            raise WindowError(f"start must be before end, got {_fmt(self.start)}-{_fmt(self.end)}")

    @classmethod
    def from_json(cls, obj: object) -> ContactWindow:
        """Parse the JSON form; raise ``WindowError`` naming the offending field."""
        if not isinstance(obj, Mapping):
            raise WindowError("contact window: expected an object with 'days', 'start' and optional 'end'")
        extra = sorted(str(key) for key in obj if key not in ("days", "start", "end"))
        if extra:
            raise WindowError(f"contact window: unknown field {extra[0]!r}")
        raw_days = obj.get("days")
        if not isinstance(raw_days, list | tuple) or not raw_days:
            raise WindowError("days: expected a non-empty list of mon..sun")
        days = frozenset(_day(raw, f"days[{i}]") for i, raw in enumerate(raw_days))
        start = _clock(obj.get("start"), "start")
        if start is None:
            raise WindowError("start: '24:00' is only allowed as an end")
        end = _clock(obj["end"], "end") if obj.get("end") is not None else None
        return cls(days=days, start=start, end=end)

    def to_json(self) -> dict[str, object]:
        return {
            "days": [DAYS[d] for d in sorted(self.days)],
            "start": _fmt(self.start),
            "end": _fmt(self.end),
        }

    def label(self) -> str:
        """Human label such as ``Mon-Fri 18:00-24:00`` (with en dashes)."""
        return f"{_days_label(self.days)} {_fmt(self.start)}{_DASH}{_fmt(self.end)}"


def parse_window(text: str) -> ContactWindow:
    """Parse a simple English phrase such as ``"weekdays after 18:00"`` (case-insensitive)."""
    phrase = " ".join(text.lower().split())
    try:
        if len(phrase) > 100:
            raise WindowError("too long")
        if match := _BETWEEN.fullmatch(phrase):
            start, end = _clock(match["start"], "start"), _clock(match["end"], "end")
        elif match := _AFTER.fullmatch(phrase):
            start, end = _clock(match["start"], "start"), None
        elif match := _BEFORE.fullmatch(phrase):
            start, end = time(0), _clock(match["end"], "end")
        else:
            start, end = time(0), None
        days = _parse_days(match["days"] if match else phrase)
        if start is None:
            raise WindowError("start: '24:00' is only allowed as an end")
        return ContactWindow(days=days, start=start, end=end)
    except WindowError as exc:
        raise WindowError(f"cannot read contact window {text[:100]!r}: {exc}. Use e.g. {_EXAMPLES}") from exc


def within(windows: Sequence[ContactWindow], at: datetime, tz: str) -> bool:
    """Whether ``at`` falls inside some window in zone ``tz``; no windows means no preference (True)."""
    try:
        return _schedule(windows).status(at, tz) == "open"
    except CalendarError as exc:
        raise WindowError(str(exc)) from exc


def next_start(windows: Sequence[ContactWindow], at: datetime, tz: str) -> datetime | None:
    """The first instant (UTC) at or after ``at`` inside some window; ``at`` itself if inside now."""
    try:
        return _schedule(windows).next_open(at, tz)
    except CalendarError as exc:
        raise WindowError(str(exc)) from exc


def first_allowed(
    at: datetime,
    windows: Sequence[ContactWindow],
    tz: str,
    hours: BusinessHours | None = None,
    hours_tz: str = "UTC",
) -> datetime | None:
    """The first instant (UTC) at or after ``at`` inside both ``windows`` (in zone ``tz``; none: no preference) and
    ``hours`` (a tenant's calling hours in ``hours_tz``; None: any time); None when the two never meet."""
    candidate = at.astimezone(UTC)
    for _ in range(_MEET_ROUNDS):
        moved = next_start(windows, candidate, tz) if windows else candidate
        if moved is not None and hours is not None:
            moved = hours.next_open(moved, hours_tz)
        if moved is None:
            return None
        if moved == candidate:
            return candidate
        candidate = moved
    return None


def stored(raw: Iterable[object] | None) -> tuple[ContactWindow, ...]:
    """A customer's stored windows (``Customer.contact_windows``, validated when saved); none if they cannot be read
    (a row edited by hand), as if the customer had no preference."""
    try:
        return tuple(ContactWindow.from_json(window) for window in raw or ())
    except WindowError:
        return ()


# --- helpers ------------------------------------------------------------------------------------------


def _schedule(windows: Iterable[ContactWindow]) -> BusinessHours:
    """The union of ``windows`` as a weekly schedule without holidays; no windows: always open."""
    per_day: dict[str, list[Interval]] = {}
    for window in windows:
        for day in window.days:
            per_day.setdefault(DAYS[day], []).append((window.start, window.end))
    if not per_day:
        per_day = {day: [(time(0), None)] for day in DAYS}
    return BusinessHours(weekly={day: _merge(intervals) for day, intervals in per_day.items()})


def _merge(intervals: list[Interval]) -> tuple[Interval, ...]:
    merged: list[Interval] = []
    for start, end in sorted(intervals, key=lambda interval: interval[0]):
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            prev_start, prev_end = merged[-1]
            merged[-1] = (prev_start, None if prev_end is None or end is None else max(prev_end, end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _parse_days(text: str) -> frozenset[int]:
    if text in _DAY_GROUPS:
        return _DAY_GROUPS[text]
    days: set[int] = set()
    for part in re.split(r" ?, ?", text):
        first, sep, last = part.partition("-")
        lo, hi = _day(first.strip(), "days"), _day(last.strip(), "days") if sep else None
        days.update([lo] if hi is None else [(lo + i) % 7 for i in range((hi - lo) % 7 + 1)])
    return frozenset(days)


def _day(raw: object, where: str) -> int:
    day = _DAY_NAMES.get(raw.lower()) if isinstance(raw, str) else None
    if day is None:
        raise WindowError(f"{where}: {raw!r} is not a day (mon..sun)")
    return day


def _clock(raw: object, where: str) -> time | None:
    """``"HH:MM"`` -> time; ``"24:00"`` -> None (end of day)."""
    match = _CLOCK.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        raise WindowError(f"{where}: expected a time as HH:MM, got {raw!r}")
    hour, minute = int(match[1]), int(match[2])
    if (hour, minute) == (24, 0):
        return None
    if hour > 23 or minute > 59:
        raise WindowError(f"{where}: {raw!r} is not a valid time of day")
    return time(hour, minute)


def _fmt(value: time | None) -> str:
    return "24:00" if value is None else f"{value.hour:02d}:{value.minute:02d}"


def _days_label(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "Every day"
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = [DAYS[d].title() for d in range(7)]
    parts = [f"{names[r[0]]}{_DASH}{names[r[-1]]}" if len(r) >= 2 else ", ".join(names[d] for d in r) for r in runs]
    return ", ".join(parts)
