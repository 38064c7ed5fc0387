"""Campaign calling rules at dial time, under a fixed clock: the list, restriction, consent, attempts, spacing,
the tenant's calling hours and the contact's own windows across time zones and a DST change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infolinia.customers.windows import parse_window
from infolinia.outbound.eligibility import Contact, Rules, Verdict, check
from infolinia.tenants.calendar import BusinessHours

HOURS = BusinessHours.from_json(
    {"weekly": {d: [["09:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}, "holidays": ["2026-12-24"]}
)
SERVICE = Rules("service", 3, timedelta(hours=1), HOURS, "Europe/Warsaw")
MARKETING = Rules("marketing", 3, timedelta(hours=1), HOURS, "Europe/Warsaw")
MONDAY_NOON = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)  # 12:00 in Warsaw
CUSTOMER = Contact(is_customer=True, marketing_consent=True)


@pytest.mark.parametrize(
    ("rules", "contact", "reason"),
    [
        (SERVICE, Contact(on_do_not_call=True), "do_not_call"),
        (MARKETING, Contact(is_customer=True, marketing_consent=True, on_do_not_call=True), "do_not_call"),
        (SERVICE, Contact(is_customer=True, restricted=True), "restricted"),
        (MARKETING, Contact(), "no_consent"),  # not a customer: no consent can exist
        (MARKETING, Contact(is_customer=True), "no_consent"),  # never asked
        (MARKETING, Contact(is_customer=True, marketing_consent=False), "no_consent"),  # withdrawn
        (SERVICE, Contact(is_customer=True, service_consent=False), "consent_withdrawn"),
        (SERVICE, Contact(attempts=3), "attempts_used"),
    ],
)
def test_never(rules: Rules, contact: Contact, reason: str) -> None:
    verdict = check(rules, contact, MONDAY_NOON)
    assert verdict == Verdict(False, reason) and verdict.never


def test_allowed_in_the_window() -> None:
    assert check(SERVICE, Contact(), MONDAY_NOON) == Verdict(True, "ok")
    assert check(MARKETING, CUSTOMER, MONDAY_NOON).allowed
    assert check(SERVICE, Contact(is_customer=True, marketing_consent=False), MONDAY_NOON).allowed  # service call


def test_spacing_then_the_window() -> None:
    last = MONDAY_NOON - timedelta(minutes=20)
    assert check(SERVICE, Contact(attempts=1, last_attempt_at=last), MONDAY_NOON) == Verdict(
        False, "spacing", last + timedelta(hours=1)
    )
    late = datetime(2026, 12, 7, 18, 30, tzinfo=UTC)  # 19:30 in Warsaw; +1 h is past 20:00
    verdict = check(SERVICE, Contact(attempts=1, last_attempt_at=late), late + timedelta(minutes=5))
    assert verdict == Verdict(False, "spacing", datetime(2026, 12, 8, 8, 0, tzinfo=UTC))  # Tuesday 09:00


def test_outside_hours_and_quiet_days() -> None:
    night = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)  # 22:00 Monday
    assert check(SERVICE, Contact(), night) == Verdict(False, "calling_window", datetime(2026, 12, 8, 8, 0, tzinfo=UTC))
    christmas_eve = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)  # a holiday of the calling hours: a quiet day
    assert check(SERVICE, Contact(), christmas_eve).at == datetime(2026, 12, 25, 8, 0, tzinfo=UTC)


def test_the_contacts_own_windows_in_their_time_zone() -> None:
    """A contact in New York who takes calls on weekdays after 17:00 their time: at 17:00 in New York (23:00 in
    Warsaw) the tenant's hours are closed; the two meet only from 09:00 Warsaw if they overlap, and here they
    never do (17:00-24:00 New York is 23:00-06:00 Warsaw)."""
    evening_ny = Contact(windows=[parse_window("weekdays after 17:00")], timezone="America/New_York")
    assert check(SERVICE, evening_ny, MONDAY_NOON) == Verdict(False, "calling_window")  # never meet
    morning_ny = Contact(windows=[parse_window("weekdays 08:00-12:00")], timezone="America/New_York")
    verdict = check(SERVICE, morning_ny, MONDAY_NOON)  # 06:00 in New York: opens at 08:00 NY = 13:00 UTC
    assert verdict == Verdict(False, "calling_window", datetime(2026, 12, 7, 13, 0, tzinfo=UTC))
    assert check(SERVICE, morning_ny, datetime(2026, 12, 7, 14, 0, tzinfo=UTC)).allowed


def test_a_window_across_the_dst_change() -> None:
    """Saturday 24 October 2026, 20:30 in Warsaw (18:30 UTC): the next weekday 09:00 is Monday 26th, after the
    clocks went back: 08:00 UTC, not 07:00."""
    saturday = datetime(2026, 10, 24, 18, 30, tzinfo=UTC)
    assert check(SERVICE, Contact(), saturday).at == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_no_calling_hours_means_any_time() -> None:
    rules = Rules("service", 3, timedelta(hours=1))
    assert check(rules, Contact(), datetime(2026, 12, 6, 3, 0, tzinfo=UTC)).allowed  # Sunday 03:00
