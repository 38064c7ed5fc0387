"""What the agent says came of a callback's or a campaign contact's call, pure: the codes, the attempt outcome each
one means, and "call me later at HH:MM" read in the customer's time zone.

| code | the attempt's outcome | afterwards |
|---|---|---|
| ``resolved``, ``connected`` | connected | done |
| ``not_interested`` | connected | done (a campaign contact is not called again) |
| ``no_answer``, ``busy``, ``voicemail`` | the same | tried again per the retry policy |
| ``wrong_number`` | wrong_number | given up |
| ``later`` | connected | done; a new callback is scheduled at the time asked for |
| ``stop`` | stop | stopped; consent withdrawn, the number on the do-not-call list, every campaign stops |
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

__all__ = ["CODES", "RETRIED", "Code", "DispositionError", "later_at", "outcome_of"]

Code = Literal[
    "resolved", "connected", "not_interested", "no_answer", "busy", "voicemail", "wrong_number", "later", "stop"
]
CODES: Final = frozenset(Code.__args__)  # type: ignore[attr-defined]
#: codes that mean nobody (or a machine) answered: the attempt is tried again per the policy
RETRIED: Final = frozenset({"no_answer", "busy", "voicemail"})
_OUTCOME: Final = {"resolved": "connected", "not_interested": "connected", "later": "connected"}
MOST_AHEAD: Final = timedelta(days=366)  # the furthest a customer's "call me later" may be
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class DispositionError(ValueError):
    """A disposition that cannot be read as given; the message says why."""


def outcome_of(code: str) -> str:
    """The attempt outcome (``promise.Outcome``) a disposition code means."""
    if code not in CODES:
        raise DispositionError(f"unknown disposition {code!r}")
    return _OUTCOME.get(code, code)


def parse_hhmm(text: str) -> time:
    match = _HHMM.match(text.strip())
    if match is None:
        raise DispositionError(f"{text[:20]!r} is not a time of day (HH:MM, 00:00-23:59)")
    return time(int(match.group(1)), int(match.group(2)))


def later_at(now: datetime, hhmm: str, zone: str, day: date | None = None) -> datetime:
    """The instant (UTC) of "call me at ``hhmm``" said at ``now``, in time zone ``zone`` (the customer's): on
    ``day`` when given (at most a year ahead), else the next time the clock there shows ``hhmm`` (today if still
    ahead, else tomorrow).
    A time the clocks skip (02:30 when 02:00 jumps to 03:00) is read as 03:30, the hour after the jump."""
    if now.tzinfo is None:
        raise DispositionError("now must be aware")
    at = parse_hhmm(hhmm)
    tz = ZoneInfo(zone)
    local_today = now.astimezone(tz).date()
    try:
        when = _instant(day or local_today, at, tz)
        if day is None and when <= now:
            when = _instant(local_today + timedelta(days=1), at, tz)
    except OverflowError:  # a day at the very end (or start) of the calendar
        raise DispositionError(f"{(day or local_today).isoformat()} {hhmm} is out of range") from None
    if when <= now:
        raise DispositionError(f"{(day or local_today).isoformat()} {hhmm} in {zone} has passed")
    if when > now + MOST_AHEAD:
        raise DispositionError(f"{(day or local_today).isoformat()} is more than a year ahead")
    return when


def _instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """In a gap, fold 0 reads the wall time with the offset in force before the jump: the same length after it."""
    return datetime.combine(day, at, tz).astimezone(UTC)
