"""First-contact resolution, pure: the verdict on one handled contact, and the figures of many.

A handled contact is an answered inbound contact (any channel). Its verdict, in this order:

1. ``excluded``: its code's outcome is ``info``, ``no_contact`` or ``wrong_number`` (nothing to resolve);
2. ``unknown_customer``: no customer is known, so repeats cannot be seen; counted by its disposition alone and
   reported apart (``unknown_customer_resolved``: those whose outcome is ``resolved``);
3. ``not_resolved``: its outcome is not ``resolved`` (``not_resolved``, ``follow_up``), or it has no code, or a code
   that is not one of its queue's (``unclassified`` counts these);
4. ``reopened_or_escalated``: a case linked to it was reopened or escalated after the contact began;
5. ``repeat_contact``: the same customer made another inbound contact, on any channel and in any queue, after
   this one began and no later than the repeat window (the tenant's ``fcr_window_days``) after it;
6. ``pending``: none of that yet, but the window has not ended;
7. ``resolved_first_contact``: otherwise.

The rate is ``resolved_first_contact / (resolved_first_contact + repeat_contact + reopened_or_escalated +
not_resolved)``: pending, excluded and unknown-customer contacts are not in it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from infolinia.wrapup.codes import EXCLUDED

__all__ = ["CaseEvent", "Contact", "Facts", "Figures", "Verdict", "derive", "facts_of", "tally", "verdict"]

#: the case changes that show a contact's matter was not settled
CASE_SETBACKS = frozenset({"reopened", "escalated"})


class Verdict(enum.StrEnum):
    RESOLVED_FIRST_CONTACT = "resolved_first_contact"
    REPEAT_CONTACT = "repeat_contact"
    REOPENED_OR_ESCALATED = "reopened_or_escalated"
    NOT_RESOLVED = "not_resolved"
    PENDING = "pending"
    UNKNOWN_CUSTOMER = "unknown_customer"
    EXCLUDED = "excluded"


@dataclass(frozen=True)
class Facts:
    """What the verdict on one handled contact depends on. ``outcome``: its code's outcome class (None: no code,
    or a code that is not one of its queue's)."""

    outcome: str | None
    has_customer: bool
    repeated: bool = False
    reopened_or_escalated: bool = False
    window_ended: bool = True


def verdict(facts: Facts) -> Verdict:
    if facts.outcome in EXCLUDED:
        return Verdict.EXCLUDED
    if not facts.has_customer:
        return Verdict.UNKNOWN_CUSTOMER
    if facts.outcome != "resolved":
        return Verdict.NOT_RESOLVED
    if facts.reopened_or_escalated:
        return Verdict.REOPENED_OR_ESCALATED
    if facts.repeated:
        return Verdict.REPEAT_CONTACT
    if not facts.window_ended:
        return Verdict.PENDING
    return Verdict.RESOLVED_FIRST_CONTACT


@dataclass(frozen=True)
class Contact:
    """A contact as the derivation sees it."""

    id: int
    customer_id: int | None
    inbound: bool
    created_at: datetime


@dataclass(frozen=True)
class CaseEvent:
    """A change on a case linked to the contact being judged."""

    kind: str  # a case entry's kind: reopened, escalated, status, ...
    at: datetime


def facts_of(
    contact: Contact,
    outcome: str | None,
    others: Iterable[Contact],
    case_events: Iterable[CaseEvent],
    now: datetime,
    window: timedelta,
) -> Facts:
    """The facts of ``contact`` among the tenant's ``others`` contacts and its linked cases' ``case_events``."""
    ends = contact.created_at + window
    repeated = contact.customer_id is not None and any(
        other.id != contact.id
        and other.inbound
        and other.customer_id == contact.customer_id
        and contact.created_at < other.created_at <= ends
        for other in others
    )
    setback = any(event.kind in CASE_SETBACKS and event.at > contact.created_at for event in case_events)
    return Facts(outcome, contact.customer_id is not None, repeated, setback, now >= ends)


def derive(
    contact: Contact,
    outcome: str | None,
    others: Iterable[Contact],
    case_events: Iterable[CaseEvent],
    now: datetime,
    window: timedelta,
) -> Verdict:
    """The verdict on one handled contact (the definition above, from the raw facts)."""
    return verdict(facts_of(contact, outcome, others, case_events, now, window))


@dataclass
class Figures:
    """The counts of a set of handled contacts, one per verdict, and the rate."""

    handled: int = 0
    resolved_first_contact: int = 0
    repeat_contact: int = 0
    reopened_or_escalated: int = 0
    not_resolved: int = 0
    unclassified: int = 0  # of not_resolved: no code, or a code that is not one of the queue's
    pending: int = 0
    unknown_customer: int = 0
    unknown_customer_resolved: int = 0  # of unknown_customer: their outcome was resolved
    excluded: int = 0

    @property
    def decided(self) -> int:
        return self.resolved_first_contact + self.repeat_contact + self.reopened_or_escalated + self.not_resolved

    @property
    def rate(self) -> float | None:
        """Resolved on first contact, of the decided contacts with a known customer (None: none decided)."""
        return round(self.resolved_first_contact / self.decided, 4) if self.decided else None


def tally(groups: Iterable[tuple[Facts, int]]) -> Figures:
    """The figures of contacts given as (facts, how many contacts share them)."""
    figures = Figures()
    for facts, count in groups:
        judged = verdict(facts)
        figures.handled += count
        setattr(figures, judged.value, getattr(figures, judged.value) + count)
        if judged is Verdict.NOT_RESOLVED and facts.outcome is None:
            figures.unclassified += count
        if judged is Verdict.UNKNOWN_CUSTOMER and facts.outcome == "resolved":
            figures.unknown_customer_resolved += count
    return figures
