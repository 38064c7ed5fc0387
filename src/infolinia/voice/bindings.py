"""Registrations in memory (RFC 3261 §10.3): the contacts of each (tenant, extension), expiring by time; pure.

``BindingTable.register`` applies one REGISTER's contacts at ``now`` and answers with the outcome; nothing here
reads a clock, so tests pass ``now`` and expiry is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_EXPIRES = 60
MAX_EXPIRES = 3600
DEFAULT_EXPIRES = 3600

Peer = tuple[str, int]
Aor = tuple[int, str]  # (tenant id, extension)


@dataclass(frozen=True, slots=True)
class Binding:
    """One registered contact: where the phone asked to be reached, where its REGISTER came from, until when."""

    uri: str
    source: Peer
    expires_at: float
    call_id: str
    cseq: int

    def expires_in(self, now: float) -> int:
        return max(0, round(self.expires_at - now))


@dataclass(frozen=True, slots=True)
class Update:
    """One contact of a REGISTER: its URI and the expiry asked for (Contact ``expires``, else Expires, else None)."""

    uri: str
    expires: int | None


@dataclass(frozen=True, slots=True)
class TooBrief:
    """Answer 423 Interval Too Brief with ``Min-Expires: min_expires``."""

    min_expires: int


@dataclass(frozen=True, slots=True)
class OutOfOrder:
    """A REGISTER older than one already applied for a contact (same Call-ID, lower or equal CSeq): answer 500."""


Outcome = list[Binding] | TooBrief | OutOfOrder


class BindingTable:
    def __init__(self, min_expires: int = MIN_EXPIRES, max_expires: int = MAX_EXPIRES) -> None:
        if not 0 < min_expires <= max_expires:
            raise ValueError("need 0 < min_expires <= max_expires")
        self.min_expires = min_expires
        self.max_expires = max_expires
        self._table: dict[Aor, dict[str, Binding]] = {}

    def __len__(self) -> int:
        return sum(len(bindings) for bindings in self._table.values())

    def contacts(self, aor: Aor, now: float) -> list[Binding]:
        """The live bindings of ``aor``, soonest expiry last (expired ones are dropped on the way)."""
        self._expire(aor, now)
        return sorted(self._table.get(aor, {}).values(), key=lambda b: -b.expires_at)

    def purge(self, now: float) -> int:
        """Drop every expired binding; how many went."""
        before = len(self)
        for aor in list(self._table):
            self._expire(aor, now)
        return before - len(self)

    def remove_all(self, aor: Aor, call_id: str, cseq: int, now: float) -> Outcome:
        """``Contact: *`` with ``Expires: 0``."""
        current = self._table.get(aor, {})
        if any(b.call_id == call_id and cseq <= b.cseq for b in current.values()):
            return OutOfOrder()
        self._table.pop(aor, None)
        return []

    def register(self, aor: Aor, updates: list[Update], source: Peer, call_id: str, cseq: int, now: float) -> Outcome:
        """Add, refresh or remove (expires 0) the contacts in ``updates``; all of them, or none on a refusal."""
        self._expire(aor, now)
        current = self._table.get(aor, {})
        for update in updates:
            asked = DEFAULT_EXPIRES if update.expires is None else update.expires
            if 0 < asked < self.min_expires:
                return TooBrief(self.min_expires)
            old = current.get(update.uri)
            if old is not None and old.call_id == call_id and cseq <= old.cseq:
                return OutOfOrder()
        for update in updates:
            self._apply(aor, update, source, call_id, cseq, now)
        return self.contacts(aor, now)

    def _apply(self, aor: Aor, update: Update, source: Peer, call_id: str, cseq: int, now: float) -> None:
        asked = DEFAULT_EXPIRES if update.expires is None else update.expires
        bindings = self._table.setdefault(aor, {})
        if asked == 0:
            bindings.pop(update.uri, None)
        else:
            seconds = min(asked, self.max_expires)
            bindings[update.uri] = Binding(update.uri, source, now + seconds, call_id, cseq)
        if not bindings:
            del self._table[aor]

    def _expire(self, aor: Aor, now: float) -> None:
        bindings = self._table.get(aor)
        if bindings is None:
            return
        for uri in [uri for uri, b in bindings.items() if b.expires_at <= now]:
            del bindings[uri]
        if not bindings:
            del self._table[aor]
