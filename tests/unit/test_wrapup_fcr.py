"""First-contact resolution, pure: the verdict on one handled contact from its raw facts (a table of cases), and
the figures of many."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infolinia.wrapup.fcr import CaseEvent, Contact, Facts, Verdict, derive, tally, verdict

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
LATER = T0 + timedelta(days=30)  # the window has ended
CONTACT = Contact(1, customer_id=10, inbound=True, created_at=T0)


def other(minutes: float, customer: int | None = 10, inbound: bool = True, ident: int = 2) -> Contact:
    return Contact(ident, customer, inbound, T0 + timedelta(minutes=minutes))


DAY = 24 * 60

CASES = [
    # (what, outcome, contact, others, case events, now, verdict)
    ("resolved, nothing after", "resolved", CONTACT, [], [], LATER, Verdict.RESOLVED_FIRST_CONTACT),
    ("repeat within the window", "resolved", CONTACT, [other(3 * DAY)], [], LATER, Verdict.REPEAT_CONTACT),
    ("repeat at the window's last moment", "resolved", CONTACT, [other(7 * DAY)], [], LATER, Verdict.REPEAT_CONTACT),
    ("contact after the window", "resolved", CONTACT, [other(7 * DAY + 1)], [], LATER,
     Verdict.RESOLVED_FIRST_CONTACT),
    ("contact before it", "resolved", CONTACT, [other(-60)], [], LATER, Verdict.RESOLVED_FIRST_CONTACT),
    ("another channel counts too (any inbound contact)", "resolved", CONTACT, [other(60, ident=3)], [], LATER,
     Verdict.REPEAT_CONTACT),
    ("another customer's contact", "resolved", CONTACT, [other(60, customer=11)], [], LATER,
     Verdict.RESOLVED_FIRST_CONTACT),
    ("a contact without customer", "resolved", CONTACT, [other(60, customer=None)], [], LATER,
     Verdict.RESOLVED_FIRST_CONTACT),
    ("an outbound call to the customer", "resolved", CONTACT, [other(60, inbound=False)], [], LATER,
     Verdict.RESOLVED_FIRST_CONTACT),
    ("itself is no repeat", "resolved", CONTACT, [CONTACT], [], LATER, Verdict.RESOLVED_FIRST_CONTACT),
    ("linked case reopened after it", "resolved", CONTACT, [], [CaseEvent("reopened", T0 + timedelta(days=20))],
     LATER, Verdict.REOPENED_OR_ESCALATED),
    ("linked case escalated after it", "resolved", CONTACT, [], [CaseEvent("escalated", T0 + timedelta(hours=2))],
     LATER, Verdict.REOPENED_OR_ESCALATED),
    ("linked case escalated before it", "resolved", CONTACT, [], [CaseEvent("escalated", T0 - timedelta(hours=2))],
     LATER, Verdict.RESOLVED_FIRST_CONTACT),
    ("linked case only noted and resolved", "resolved", CONTACT, [],
     [CaseEvent("note", T0 + timedelta(hours=1)), CaseEvent("status", T0 + timedelta(hours=2))], LATER,
     Verdict.RESOLVED_FIRST_CONTACT),
    ("reopened and repeated: the case counts", "resolved", CONTACT, [other(60)],
     [CaseEvent("reopened", T0 + timedelta(days=1))], LATER, Verdict.REOPENED_OR_ESCALATED),
    ("window not ended yet", "resolved", CONTACT, [], [], T0 + timedelta(days=3), Verdict.PENDING),
    ("window ends now", "resolved", CONTACT, [], [], T0 + WEEK, Verdict.RESOLVED_FIRST_CONTACT),
    ("repeat already seen inside an open window", "resolved", CONTACT, [other(60)], [], T0 + timedelta(days=1),
     Verdict.REPEAT_CONTACT),
    ("no customer, resolved", "resolved", Contact(1, None, True, T0), [other(60)], [], LATER,
     Verdict.UNKNOWN_CUSTOMER),
    ("no customer, not resolved", "follow_up", Contact(1, None, True, T0), [], [], LATER, Verdict.UNKNOWN_CUSTOMER),
    ("not resolved", "not_resolved", CONTACT, [], [], LATER, Verdict.NOT_RESOLVED),
    ("follow-up to come", "follow_up", CONTACT, [], [], T0 + timedelta(days=1), Verdict.NOT_RESOLVED),
    ("no code", None, CONTACT, [], [], LATER, Verdict.NOT_RESOLVED),
    ("wrong number", "wrong_number", CONTACT, [other(60)], [], LATER, Verdict.EXCLUDED),
    ("no contact", "no_contact", Contact(1, None, True, T0), [], [], LATER, Verdict.EXCLUDED),
    ("information only", "info", CONTACT, [], [], T0, Verdict.EXCLUDED),
]  # fmt: skip


@pytest.mark.parametrize(("outcome", "contact", "others", "events", "now", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])  # fmt: skip
def test_verdict(
    outcome: str | None,
    contact: Contact,
    others: list[Contact],
    events: list[CaseEvent],
    now: datetime,
    expected: Verdict,
) -> None:
    assert derive(contact, outcome, others, events, now, WEEK) is expected


def test_the_window_is_the_tenants() -> None:
    three_days = [other(4 * DAY)]
    assert derive(CONTACT, "resolved", three_days, [], LATER, timedelta(days=3)) is Verdict.RESOLVED_FIRST_CONTACT
    assert derive(CONTACT, "resolved", three_days, [], LATER, timedelta(days=5)) is Verdict.REPEAT_CONTACT


def test_tally_counts_each_verdict_and_the_rate_of_decided_contacts() -> None:
    groups = [
        (Facts("resolved", True), 6),
        (Facts("resolved", True, repeated=True), 2),
        (Facts("resolved", True, reopened_or_escalated=True), 1),
        (Facts("follow_up", True), 2),
        (Facts(None, True), 1),  # no code
        (Facts("resolved", True, window_ended=False), 4),
        (Facts("resolved", False), 3),
        (Facts("not_resolved", False), 1),
        (Facts("wrong_number", True), 5),
    ]
    f = tally(groups)
    assert (f.handled, f.resolved_first_contact, f.repeat_contact, f.reopened_or_escalated) == (25, 6, 2, 1)
    assert (f.not_resolved, f.unclassified, f.pending, f.excluded) == (3, 1, 4, 5)
    assert (f.unknown_customer, f.unknown_customer_resolved) == (4, 3)
    assert f.rate == round(6 / 12, 4)
    assert tally([(Facts("resolved", True, window_ended=False), 3)]).rate is None  # nothing decided yet


def test_verdict_order_excluded_before_unknown_customer() -> None:
    assert verdict(Facts("no_contact", False)) is Verdict.EXCLUDED
    assert verdict(Facts("resolved", False, repeated=True)) is Verdict.UNKNOWN_CUSTOMER
