"""Which case an e-mail belongs to, pure: the case tag in a subject (``[#123]``, ``[Case 123]``, ``[Sprawa 123]``)
and the subject of a reply that carries it."""

from __future__ import annotations

import re

CASE_TAG = re.compile(r"\[\s*(?:#|(?:case|sprawa|ticket)\s*#?)\s*(\d{1,9})\s*\]", re.IGNORECASE)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|odp|aw|sv|vs)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def case_number(subject: str) -> int | None:
    """The case number tagged in ``subject`` (the last tag when there are several), or None."""
    found = CASE_TAG.findall(subject)
    return int(found[-1]) if found else None


def tag(number: int) -> str:
    return f"[#{number}]"


def reply_subject(subject: str, number: int) -> str:
    """``Re: <subject without reply prefixes and case tags> [#number]``."""
    base = " ".join(CASE_TAG.sub(" ", _REPLY_PREFIX.sub("", subject)).split())
    return f"Re: {base} {tag(number)}" if base else f"Re: {tag(number)}"


def tagged(subject: str, number: int) -> str:
    """``subject`` with the case's tag (once)."""
    if case_number(subject) == number:
        return subject
    base = " ".join(CASE_TAG.sub(" ", subject).split())
    return f"{base} {tag(number)}".strip()
