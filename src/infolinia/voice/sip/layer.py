"""The transaction layer: matches messages to transactions (RFC 3261 §17.1.3, §17.2.3) and keeps them, bounded.

Sans-IO like the machines it holds: ``receive`` (a parsed message from the network), ``send_request`` and
``send_response`` (from the TU), ``transport_error`` and ``timeout`` all take ``now`` and return events; the
shell sleeps until ``next_deadline()``. A transaction is removed as soon as it reports ``Terminated``.

Matching: a response goes to the client transaction of its top Via branch and CSeq method; a request to the
server transaction of its top Via branch, sent-by and method, an ACK to that of the INVITE. A CANCEL is its own
non-INVITE transaction; its ``Deliver`` names the INVITE server transaction it matches (``cancels``). A request
whose branch lacks the ``z9hG4bK`` cookie is not matched the RFC 2543 way: it is ``Rejected("no-branch")``
(an ACK goes to the TU as one outside any transaction). An unmatched response is stray: dropped and counted.
"""

from __future__ import annotations

import heapq
import secrets

from .errors import SipError
from .message import Request, Response
from .timers import Timers
from .transaction import (
    ClientTransaction,
    Deliver,
    Event,
    InviteClientTransaction,
    InviteServerTransaction,
    NonInviteClientTransaction,
    NonInviteServerTransaction,
    Peer,
    Rejected,
    ServerTransaction,
    State,
    Terminated,
    Transaction,
    TransactionError,
    TransactionKey,
)

MAGIC_COOKIE = "z9hG4bK"
DEFAULT_MAX_TRANSACTIONS = 10_000


def new_branch() -> str:
    """A Via branch unique in space and time: the RFC 3261 cookie and 128 random bits."""
    return MAGIC_COOKIE + secrets.token_hex(16)


class TransactionLimitError(TransactionError):
    """``send_request`` when the layer already holds ``max_transactions``."""


class TransactionLayer:
    def __init__(self, timers: Timers | None = None, max_transactions: int = DEFAULT_MAX_TRANSACTIONS) -> None:
        self.timers = timers or Timers()
        self.max_transactions = max_transactions
        self.stray_responses = 0
        self.dropped = 0  # messages whose Via or CSeq cannot be read
        self._live: dict[TransactionKey, Transaction] = {}
        self._heap: list[tuple[float, int, TransactionKey]] = []
        self._pushes = 0

    def __len__(self) -> int:
        return len(self._live)

    def get(self, key: TransactionKey) -> Transaction | None:
        return self._live.get(key)

    # --- from the TU -------------------------------------------------------------------------------------------

    def send_request(
        self, request: Request, now: float, peer: Peer | None = None, reliable: bool = False
    ) -> tuple[TransactionKey, list[Event]]:
        """Start a client transaction for ``request``, whose top Via carries a branch from ``new_branch()``;
        ``reliable``: it goes over TCP (no retransmits)."""
        if request.method == "ACK":
            raise TransactionError("an ACK is sent without a transaction (the ACK of a 2xx is the dialog's)")
        branch = request.via[0].branch if request.via else None
        if branch is None or not branch.startswith(MAGIC_COOKIE):
            raise TransactionError("the top Via needs a branch starting with z9hG4bK")
        key = TransactionKey(branch, "", request.method)
        if key in self._live:
            raise TransactionError(f"a transaction {branch} {request.method} is already running")
        if len(self._live) >= self.max_transactions:
            raise TransactionLimitError(f"{len(self._live)} transactions running")
        kind = InviteClientTransaction if request.method == "INVITE" else NonInviteClientTransaction
        return key, self._start(kind(key, request, self.timers, peer, reliable), now)

    def send_response(self, key: TransactionKey, response: Response, now: float) -> list[Event]:
        tx = self._live.get(key)
        if not isinstance(tx, ServerTransaction):
            raise TransactionError(f"no server transaction {key}")
        return self._after(tx, tx.send_response(response, now))

    def transport_error(self, key: TransactionKey, now: float) -> list[Event]:
        """The transport could not send what a transaction gave it (e.g. ICMP unreachable)."""
        tx = self._live.get(key)
        return [] if tx is None else self._after(tx, tx.transport_error(now))

    # --- from the network --------------------------------------------------------------------------------------

    def receive(
        self, message: Request | Response, now: float, peer: Peer | None = None, reliable: bool = False
    ) -> list[Event]:
        """A message from the network; ``reliable``: it came over TCP (a server transaction it starts never
        retransmits)."""
        try:
            if isinstance(message, Request):
                return self._request(message, now, peer, reliable)
            return self._response(message, now)
        except SipError:
            self.dropped += 1
            return []

    def _response(self, response: Response, now: float) -> list[Event]:
        vias = response.via
        key = TransactionKey(vias[0].branch or "", "", response.cseq.method) if vias else None
        tx = None if key is None else self._live.get(key)
        if not isinstance(tx, ClientTransaction):
            self.stray_responses += 1
            return []
        return self._after(tx, tx.receive(response, now))

    def _request(self, request: Request, now: float, peer: Peer | None, reliable: bool) -> list[Event]:
        _ = request.cseq  # a transaction answers with it: unreadable means dropped
        key = server_key(request)
        tx = None if key is None else self._live.get(key)
        if isinstance(tx, ServerTransaction):
            return self._after(tx, tx.receive(request, now))
        if request.method == "ACK":  # the ACK of a 2xx, or of a transaction that is gone: the TU's
            return [Deliver(None, request, peer)]
        if key is None:
            return [Rejected(request, "no-branch", peer)]
        if len(self._live) >= self.max_transactions:
            return [Rejected(request, "overloaded", peer)]
        kind = InviteServerTransaction if request.method == "INVITE" else NonInviteServerTransaction
        events = self._start(kind(key, request, self.timers, peer, reliable), now)
        if request.method == "CANCEL":
            invite = TransactionKey(key.branch, key.sent_by, "INVITE")
            target = invite if isinstance(self._live.get(invite), InviteServerTransaction) else None
            events = [Deliver(e.key, e.message, e.peer, target) if isinstance(e, Deliver) else e for e in events]
        return events

    # --- time --------------------------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        while self._heap:
            due, _, key = self._heap[0]
            tx = self._live.get(key)
            if tx is not None and tx.next_deadline() == due:
                return due
            heapq.heappop(self._heap)  # stale: the transaction is gone or its timers moved
        return None

    def timeout(self, now: float) -> list[Event]:
        events: list[Event] = []
        while (due := self.next_deadline()) is not None and due <= now:
            _, _, key = heapq.heappop(self._heap)
            tx = self._live[key]
            events += self._after(tx, tx.timeout(now))
        return events

    # --- bookkeeping -------------------------------------------------------------------------------------------

    def _start(self, tx: Transaction, now: float) -> list[Event]:
        self._live[tx.key] = tx
        return self._after(tx, tx.start(now))

    def _after(self, tx: Transaction, events: list[Event]) -> list[Event]:
        if tx.state is State.TERMINATED or any(isinstance(e, Terminated) for e in events):
            self._live.pop(tx.key, None)
        else:
            due = tx.next_deadline()
            if due is not None:
                self._pushes += 1
                heapq.heappush(self._heap, (due, self._pushes, tx.key))
                if len(self._heap) > 4 * len(self._live) + 64:
                    self._compact()
        return events

    def _compact(self) -> None:
        self._heap = [entry for entry in self._heap if self._current(entry)]
        heapq.heapify(self._heap)

    def _current(self, entry: tuple[float, int, TransactionKey]) -> bool:
        tx = self._live.get(entry[2])
        return tx is not None and tx.next_deadline() == entry[0]


def server_key(request: Request) -> TransactionKey | None:
    """The key of the server transaction ``request`` belongs to (§17.2.3); None without an RFC 3261 branch."""
    vias = request.via
    branch = vias[0].branch if vias else None
    if branch is None or not branch.startswith(MAGIC_COOKIE):
        return None
    top = vias[0]
    sent_by = top.host.lower() if top.port is None else f"{top.host.lower()}:{top.port}"
    return TransactionKey(branch, sent_by, "INVITE" if request.method == "ACK" else request.method)
