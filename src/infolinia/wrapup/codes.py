"""A queue's wrap-up codes, pure: the outcome classes a code can have, the rules a queue's list keeps, and whether
a disposition may be set on a contact of that queue.

These are the codes an agent picks for an inbound (or any queued) contact at the end of its wrap-up, stored as the
interaction's ``disposition_code``. They are not the outbound dispositions of callbacks and campaign calls
(``outbound/disposition.py``, table ``dispositions``), which drive retries and are fixed by the system.

Rules: codes are slugs (``a-z``, then ``a-z``, ``0-9``, ``_`` or ``-``; up to 40), unique in their queue and never
renamed; at most ``MAX_CODES`` per queue; a queue that requires a code keeps at least one active code. A queue
without codes accepts any free code, as interactions always did; a queue with codes accepts only its active ones.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from typing import Any, Final, Literal

__all__ = [
    "CODE_PATTERN",
    "EXCLUDED",
    "MAX_CODES",
    "OUTCOMES",
    "CodeError",
    "Outcome",
    "check_disposition",
    "check_keeps_active",
    "check_new_code",
    "next_position",
]

Outcome = Literal["resolved", "not_resolved", "follow_up", "info", "no_contact", "wrong_number"]
#: what came of a contact, as first-contact resolution reads it (docs/wrap-up.md)
OUTCOMES: Final[tuple[str, ...]] = Outcome.__args__  # type: ignore[attr-defined]
#: outcomes of contacts with nothing to resolve: left out of first-contact resolution's rate
EXCLUDED: Final = frozenset({"info", "no_contact", "wrong_number"})
MAX_CODES: Final = 50
CODE_PATTERN: Final = r"^[a-z][a-z0-9_-]{0,39}$"
_CODE = re.compile(CODE_PATTERN)


class CodeError(ValueError):
    """A change a queue's codes or a contact's disposition cannot take: ``kind`` is the API error code
    (``conflict`` ones are 409, the others 422), ``details`` what the client needs to fix it."""

    def __init__(self, message: str, kind: str, conflict: bool = False, **details: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.conflict = conflict
        self.details = details


def check_new_code(code: str, existing: Collection[str]) -> None:
    """A new code for a queue holding ``existing`` codes (active or not)."""
    if not _CODE.fullmatch(code):
        raise CodeError(f"{code!r} is not a code (a-z, then a-z, 0-9, _ or -; up to 40)", "invalid_code",
                        field="code")  # fmt: skip
    if code in existing:
        raise CodeError(f"the queue has a code {code!r} already (deactivated codes count too)", "code_taken",
                        conflict=True, field="code")  # fmt: skip
    if len(existing) >= MAX_CODES:
        raise CodeError(f"a queue has at most {MAX_CODES} codes: deactivate or delete one first", "too_many_codes",
                        field="code")  # fmt: skip


def check_keeps_active(required: bool, active_after: int) -> None:
    """A queue that requires a code must keep one active code at least."""
    if required and active_after < 1:
        raise CodeError(
            "the queue requires a wrap-up code: it must keep at least one active code (set required to false first)",
            "code_required_by_queue", conflict=True,
        )  # fmt: skip


def check_disposition(code: str | None, active: Sequence[str], any_codes: bool, required: bool) -> None:
    """May a contact of a queue end up with disposition ``code``? ``active``: the queue's active codes in their
    order; ``any_codes``: whether it has codes at all (deactivated ones too). A queue without codes takes any free
    code; ``required`` refuses none (checked when the wrap-up is recorded as ended)."""
    if code is None:
        if required:
            raise CodeError(
                f"this queue requires a wrap-up code: one of {', '.join(active)}", "disposition_required",
                field="disposition_code", allowed=list(active),
            )  # fmt: skip
        return
    if any_codes and code not in active:
        allowed = ", ".join(active) or "none (every code is deactivated)"
        raise CodeError(
            f"{code!r} is not an active wrap-up code of this queue; allowed: {allowed}", "unknown_disposition",
            field="disposition_code", allowed=list(active),
        )  # fmt: skip


def next_position(positions: Iterable[int]) -> int:
    """Where a code added without a position goes: after the last one."""
    return max(positions, default=-1) + 1
