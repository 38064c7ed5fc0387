"""Whether a campaign may call a contact now, pure: the rules a dialer checks right before every call.

In order, the first that applies decides:

1. the number is on the tenant's do-not-call list -> never (``do_not_call``);
2. the customer is restricted (processing limited on their request) -> never (``restricted``);
3. consent: a marketing campaign needs the customer's ``marketing_phone`` consent to be granted (none recorded, a
   contact who is no customer, or a withdrawal -> never: ``no_consent``); a service campaign stops only on a
   withdrawn ``service`` consent (``consent_withdrawn``);
4. the campaign's attempts are used up -> never (``attempts_used``);
5. too soon after the last attempt -> later, at ``last + spacing`` (``spacing``);
6. outside the tenant's calling hours (its legal window; holidays are quiet days) or the contact's own windows (in
   the contact's time zone, else the tenant's) -> later, at the next time both allow (``calling_window``).

"Never" is for this campaign as things stand: consent given later, or a number taken off the list, makes the
contact callable again at the next check. So the check runs at dial time, every time: a withdrawal stops the
next call at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from infolinia.customers.windows import ContactWindow, first_allowed
from infolinia.tenants.calendar import BusinessHours

__all__ = ["Contact", "Rules", "Verdict", "check"]

Purpose = Literal["service", "marketing"]


@dataclass(frozen=True)
class Rules:
    """A campaign's rules and the tenant's calling hours."""

    purpose: Purpose
    max_attempts: int
    spacing: timedelta
    calling_hours: BusinessHours | None = None
    tenant_timezone: str = "UTC"


@dataclass(frozen=True)
class Contact:
    """What is known of a contact at dial time."""

    attempts: int = 0
    last_attempt_at: datetime | None = None
    on_do_not_call: bool = False
    is_customer: bool = False
    restricted: bool = False
    marketing_consent: bool | None = None  # the newest marketing_phone consent; None: never recorded
    service_consent: bool | None = None
    windows: Sequence[ContactWindow] = ()
    timezone: str | None = None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str  # "ok", or why not (see the module's docstring)
    at: datetime | None = None  # when "later": the earliest time it may be called; None: never (as things stand)

    @property
    def never(self) -> bool:
        return not self.allowed and self.at is None


def check(rules: Rules, contact: Contact, now: datetime) -> Verdict:
    """May ``contact`` be called at ``now`` (aware)?"""
    now = now.astimezone(UTC)
    if contact.on_do_not_call:
        return Verdict(False, "do_not_call")
    if contact.restricted:
        return Verdict(False, "restricted")
    if rules.purpose == "marketing" and contact.marketing_consent is not True:
        return Verdict(False, "no_consent")
    if contact.service_consent is False:
        return Verdict(False, "consent_withdrawn")
    if contact.attempts >= rules.max_attempts:
        return Verdict(False, "attempts_used")
    if contact.last_attempt_at is not None and now < contact.last_attempt_at + rules.spacing:
        return Verdict(False, "spacing", _window(rules, contact, contact.last_attempt_at + rules.spacing))
    start = _window(rules, contact, now)
    if start is None:
        return Verdict(False, "calling_window")
    return Verdict(True, "ok") if start <= now else Verdict(False, "calling_window", start)


def _window(rules: Rules, contact: Contact, at: datetime) -> datetime | None:
    """The first instant from ``at`` that the calling hours and the contact's windows both allow; None if none."""
    zone = contact.timezone or rules.tenant_timezone
    return first_allowed(at, contact.windows, zone, rules.calling_hours, rules.tenant_timezone)
