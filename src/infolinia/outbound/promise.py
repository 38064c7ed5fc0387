"""When a callback may start, by when its promise is kept, and what each attempt's outcome leads to, pure.

A callback is promised either as soon as possible (the caller kept their place in a queue, a web form, "call me
back" during a contact) or at an agreed time ("at 18:30", "after 18:00" read as 18:00). The promise:

- as soon as possible: may start at once; kept if the first attempt starts within ``asap_minutes``;
- at an agreed time T: may start ``tolerance_minutes`` before T; kept if the first attempt starts by T plus
  ``tolerance_minutes``.

A personal callback (the same agent) waits for its agent until T (or the request) plus ``personal_wait_minutes``,
then goes to anyone in its queue. An attempt that reached nobody is tried again after the policy's spacing for
that outcome, moved into the customer's contact windows when they have any, until ``max_attempts``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from infolinia.customers.windows import ContactWindow, first_allowed
from infolinia.outbound.policy import RETRIED, CallbackPolicy

__all__ = ["Next", "Outcome", "Promise", "PromiseError", "after_attempt", "promise"]

_EARLIEST_PAST = timedelta(minutes=1)  # an agreed time this much in the past is still read as "now"


class PromiseError(ValueError):
    """A callback that cannot be promised as asked (a time in the past, an outcome that needs a time, ...)."""


class Outcome(enum.StrEnum):
    CONNECTED = "connected"  # the customer and the agent talked
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"  # an answering machine or voicemail answered
    FAILED = "failed"  # the call could not be placed (network, trunk refused)
    WRONG_NUMBER = "wrong_number"  # someone answered who is not the customer: never tried again
    LATER = "later"  # "call me another time": rescheduled to the time the customer gave
    STOP = "stop"  # "stop calling me": no more calls (the consent withdrawal is recorded beside)


@dataclass(frozen=True)
class Promise:
    not_before: datetime  # the earliest a call may start
    due: datetime  # what was promised: the request (as soon as possible) or the agreed time
    keep_by: datetime  # the latest first attempt that keeps the promise

    def kept_by(self, started_at: datetime) -> bool:
        """Whether a first attempt started at ``started_at`` keeps the promise."""
        return self.not_before <= started_at <= self.keep_by


def promise(
    policy: CallbackPolicy, requested_at: datetime, at: datetime | None = None, *, timezone: str = "UTC"
) -> Promise:
    """The promise of a callback requested at ``requested_at``, for ``at`` (an aware instant) or as soon as
    possible; its times in UTC. As soon as possible means as soon as the policy's calling hours (in ``timezone``,
    the tenant's) are open; an agreed time is the customer's choice and is kept as it is."""
    requested_at = _aware(requested_at, "requested_at")
    if at is None:
        hours = policy.calling_hours
        start = requested_at if hours is None else hours.next_open(requested_at, timezone)
        if start is None:
            raise PromiseError("the tenant's calling hours do not open in the coming year")
        return Promise(start, start, start + timedelta(minutes=policy.asap_minutes))
    at = _aware(at, "at")
    if at < requested_at - _EARLIEST_PAST:
        raise PromiseError(f"the agreed time {at.isoformat()} has passed")
    tolerance = timedelta(minutes=policy.tolerance_minutes)
    at = max(at, requested_at)
    return Promise(max(requested_at, at - tolerance), at, at + tolerance)


@dataclass(frozen=True)
class Next:
    """What follows an attempt: ``status`` is ``completed``, ``scheduled`` (again, from ``at``), ``failed`` (given
    up) or ``stopped`` (the customer asked for no more calls)."""

    status: str
    at: datetime | None = None


def after_attempt(
    policy: CallbackPolicy,
    outcome: Outcome,
    attempts: int,
    ended_at: datetime,
    *,
    later: datetime | None = None,
    windows: Sequence[ContactWindow] = (),
    timezone: str = "UTC",
    tenant_timezone: str = "UTC",
) -> Next:
    """The callback's next step after its ``attempts``-th attempt ended at ``ended_at`` with ``outcome``. ``later``
    is the time a "call me another time" asked for. Retries move into the customer's contact ``windows`` (in
    ``timezone``, the customer's) when they have any, and into the policy's calling hours (in
    ``tenant_timezone``); where the two never meet, the calling hours win."""
    ended_at = _aware(ended_at, "ended_at")
    if attempts < 1:
        raise PromiseError("an outcome follows an attempt: attempts must be at least 1")
    if outcome is Outcome.CONNECTED:
        return Next("completed")
    if outcome is Outcome.STOP:
        return Next("stopped")
    if outcome is Outcome.WRONG_NUMBER:
        return Next("failed")
    if outcome is Outcome.LATER:
        if later is None:
            raise PromiseError("'later' needs the time the customer asked for")
        later = _aware(later, "later")
        if later <= ended_at:
            raise PromiseError(f"the new time {later.isoformat()} is not after the call")
        return Next("scheduled", later)
    assert outcome.value in RETRIED
    if attempts >= policy.max_attempts:
        return Next("failed")
    again = ended_at + timedelta(minutes=policy.retry_minutes[outcome.value])
    return Next("scheduled", _settle(policy, again, windows, timezone, tenant_timezone))


def _settle(
    policy: CallbackPolicy, at: datetime, windows: Sequence[ContactWindow], timezone: str, tenant_timezone: str
) -> datetime:
    """The first instant from ``at`` inside both the customer's windows and the calling hours; where the two never
    meet, the calling hours (the law) win over the customer's preference."""
    hours = policy.calling_hours
    both = first_allowed(at, windows, timezone, hours, tenant_timezone)
    if both is not None:
        return both
    return at if hours is None else hours.next_open(at, tenant_timezone) or at


def _aware(at: datetime, name: str) -> datetime:
    """``at`` in UTC (arithmetic on a local zone's datetimes is wall-clock arithmetic, wrong across a DST change)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise PromiseError(f"{name}: expected a time with its time zone, got {at.isoformat()}")
    return at.astimezone(UTC)
