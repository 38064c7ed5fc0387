"""Where a case may go from where it is, pure.

Statuses: ``new`` (just filed), ``open`` (being worked), ``pending_customer`` (waiting for the customer's answer:
service-level clocks stop), ``escalated`` (handed up the ladder, waiting on the next rung), ``resolved`` (the
answer is given; the customer may still object), ``closed`` (done). A resolved or closed case can be reopened
(back to ``open``, counted); a case merged into another is closed for good. Escalating is its own step (it moves
the tier), so ``escalated`` is not a status one sets by hand.
"""

from __future__ import annotations

from typing import Final

from infolinia.errors import Conflict

STATUSES: Final = ("new", "open", "pending_customer", "escalated", "resolved", "closed")
ACTIVE: Final = frozenset({"new", "open", "pending_customer", "escalated"})
FINISHED: Final = frozenset({"resolved", "closed"})

#: status -> the statuses one may set from it (escalation and reopening are steps of their own)
MOVES: Final[dict[str, frozenset[str]]] = {
    "new": frozenset({"open", "pending_customer", "resolved", "closed"}),
    "open": frozenset({"pending_customer", "resolved", "closed"}),
    "pending_customer": frozenset({"open", "resolved", "closed"}),
    "escalated": frozenset({"open", "pending_customer", "resolved", "closed"}),
    "resolved": frozenset({"closed"}),
    "closed": frozenset(),
}


class LifecycleError(Conflict):
    """A move the case's status does not allow; the message says which are allowed (409 ``case_state``)."""

    code = "case_state"


def check_move(current: str, to: str) -> None:
    """Raise unless a case in ``current`` may be set to ``to`` (setting the status it has is not a move)."""
    if to not in STATUSES or to == "escalated":
        raise LifecycleError(f"status {to!r} cannot be set (escalate the case instead)" if to == "escalated"
                             else f"unknown status {to!r}")  # fmt: skip
    if to == current:
        raise LifecycleError(f"the case is {current} already")
    if to not in MOVES[current]:
        allowed = ", ".join(sorted(MOVES[current])) or "none"
        again = "; reopen it to work on it again" if current in FINISHED else ""
        raise LifecycleError(f"a {current} case cannot become {to} (allowed: {allowed}{again})")


def check_escalate(current: str, tier: int, top: int) -> int:
    """The tier an escalation moves a case to; raises for a finished case or one on the ladder's top rung."""
    if current in FINISHED:
        raise LifecycleError(f"a {current} case cannot be escalated (reopen it first)")
    if tier >= top:
        raise LifecycleError("the case is on the ladder's top rung already")
    return tier + 1


def check_reopen(current: str, merged: bool) -> None:
    if merged:
        raise LifecycleError("a case merged into another cannot be reopened (reopen the one it was merged into)")
    if current not in FINISHED:
        raise LifecycleError(f"only a resolved or closed case can be reopened, not a {current} one")
