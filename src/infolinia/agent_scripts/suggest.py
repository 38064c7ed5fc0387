"""Which scripts apply to a contact, best first, pure.

A script applies when it is attached to an IVR node the caller went through (in a flow the call ran, when that is
known), to the contact's queue, or to the category of a case linked to the contact. An IVR choice ranks above a
queue, which ranks above a category (the caller's own choice says most); among IVR choices a later node in the
caller's path (a deeper menu) ranks higher; among equals a script in the customer's language comes first, then by
name. Each script is suggested once, with every reason it applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from infolinia.agent_scripts.attachments import Attachments

__all__ = ["KINDS", "Candidate", "Contact", "Reason", "Suggestion", "same_language", "suggest"]

#: the kinds of reason, strongest first
KINDS = ("ivr", "queue", "category")


@dataclass(frozen=True)
class Candidate:
    """An active script, as suggestions need it."""

    id: int
    name: str
    language: str
    attachments: Attachments


@dataclass(frozen=True)
class Contact:
    """What is known of the contact: the flows its call ran (None: not known, any flow's nodes count), the IVR
    nodes it went through in order, its queues (id -> name), the categories of its cases (with their numbers),
    its customer's language, and the names of the tenant's flows."""

    flow_ids: frozenset[int] | None = None
    ivr_path: Sequence[str] = ()
    queues: Mapping[int, str] = field(default_factory=dict)
    cases: Sequence[tuple[str, int]] = ()
    language: str | None = None
    flow_names: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reason:
    kind: str  # one of KINDS
    text: str  # "IVR choice 'billing' (Main menu)", "queue Billing", "case category billing (case 12)"
    depth: int = 0  # for an IVR choice: its place in the caller's path (later is more specific)


@dataclass(frozen=True)
class Suggestion:
    id: int
    name: str
    language: str
    language_match: bool
    reasons: tuple[Reason, ...]

    def key(self) -> tuple[int, int, bool, str, int]:
        best = self.reasons[0]
        return KINDS.index(best.kind), -best.depth, not self.language_match, self.name.casefold(), self.id


def same_language(a: str | None, b: str | None) -> bool:
    """True when both name the same language (``pt-BR`` and ``pt`` do)."""
    if not a or not b:
        return False
    return a.split("-")[0].lower() == b.split("-")[0].lower()


def _reasons(attachments: Attachments, contact: Contact) -> list[Reason]:
    reasons: list[Reason] = []
    depth = {node: i + 1 for i, node in enumerate(contact.ivr_path)}  # the last visit counts
    for choice in attachments.ivr:
        ran = contact.flow_ids is None or choice.flow_id in contact.flow_ids
        if ran and choice.node_id in depth:
            flow = contact.flow_names.get(choice.flow_id, f"flow {choice.flow_id}")
            reasons.append(Reason("ivr", f"IVR choice {choice.node_id!r} ({flow})", depth[choice.node_id]))
    for queue_id in attachments.queue_ids:
        if queue_id in contact.queues:
            reasons.append(Reason("queue", f"queue {contact.queues[queue_id]}"))
    for category, number in contact.cases:
        if category in attachments.categories:
            reasons.append(Reason("category", f"case category {category} (case {number})"))
    return sorted(reasons, key=lambda r: (KINDS.index(r.kind), -r.depth))


def suggest(candidates: Sequence[Candidate], contact: Contact) -> list[Suggestion]:
    """The candidates that apply to ``contact``, best first."""
    found = []
    for script in candidates:
        reasons = _reasons(script.attachments, contact)
        if reasons:
            match = same_language(script.language, contact.language)
            found.append(Suggestion(script.id, script.name, script.language, match, tuple(reasons)))
    return sorted(found, key=Suggestion.key)
