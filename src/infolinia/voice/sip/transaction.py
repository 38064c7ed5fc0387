"""RFC 3261 §17 transactions over UDP and TCP, sans-IO: four state machines driven by explicit time.

Everything that affects a transaction's state lives here, in one table per machine: ``(state, input) ->
(next state, what to do)``. An input is a response class (1xx, 2xx, 300-699: from the network for a client,
from the TU for a server), a retransmitted request, an ACK, a fired timer or a transport error. Entering a state
starts the timers that state lists and stops the others; a retransmit timer (A, E, G) that fires without leaving
its state runs again with its backed-off interval. An input the table does not list is ignored when it comes from
the network and refused (``TransactionError``) when it comes from the TU.

2xx to INVITE follow RFC 6026: the client passes every 2xx it sees during Timer M to the TU (retransmits and
forks, for the TU to ACK), the server passes the TU's 2xx retransmits to the transport and absorbs retransmitted
INVITEs during Timer L. Retransmitting the 2xx until the ACK comes, and sending the ACK of a 2xx, are the
dialog's work (§13.3.1.4, §13.2.2.4), not a transaction's.

A transaction over a reliable transport (TCP; ``reliable=True``) never retransmits: timers A, E and G do not
run, and D, I, J and K, which only wait for retransmits, are zero (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2).

Nothing here reads a clock or opens a socket: the caller passes ``now`` (seconds, any monotonic origin), sends
what ``Transmit`` carries, and calls ``timeout(now)`` when ``next_deadline()`` is reached.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from .message import Headers, Request, Response
from .timers import Timer, Timers

log = logging.getLogger(__name__)

Peer = tuple[str, int]
Message = Request | Response

RETRANSMIT_TIMERS = frozenset({Timer.A, Timer.E, Timer.G})
ZERO_WHEN_RELIABLE = frozenset({Timer.D, Timer.I, Timer.J, Timer.K})


class TransactionError(ValueError):
    """The TU asked for something the transaction cannot do in its state (a TU bug, not a network event)."""


@dataclass(frozen=True, slots=True)
class TransactionKey:
    """What matches a message to its transaction (§17.1.3, §17.2.3).

    ``sent_by`` is the top Via's host (lower case) and port of a server transaction's request, ``""`` for a
    client transaction (whose branch this end chose). ``method`` is INVITE for an ACK to a non-2xx.
    """

    branch: str
    sent_by: str
    method: str


# --- what a transaction tells its caller ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transmit:
    """Send ``message`` to ``peer`` (a client's destination; a server's request source, to which §18.2.2 applies)."""

    key: TransactionKey
    message: Message
    peer: Peer | None


@dataclass(frozen=True, slots=True)
class Deliver:
    """Pass ``message`` to the TU. ``key`` is None for an ACK outside any transaction (the ACK of a 2xx);
    ``cancels`` names the INVITE server transaction that a new CANCEL matches (None: answer 481)."""

    key: TransactionKey | None
    message: Message
    peer: Peer | None = None
    cancels: TransactionKey | None = None


@dataclass(frozen=True, slots=True)
class TimedOut:
    """Timer B or F (no final response) or H (no ACK) fired."""

    key: TransactionKey


@dataclass(frozen=True, slots=True)
class TransportError:
    key: TransactionKey


@dataclass(frozen=True, slots=True)
class Terminated:
    """The transaction is over; nothing more comes from it."""

    key: TransactionKey


@dataclass(frozen=True, slots=True)
class Rejected:
    """A request that got no transaction: ``"overloaded"`` (the layer's cap; the TU may answer 503 without a
    transaction) or ``"no-branch"`` (no RFC 3261 branch; RFC 2543 matching is not implemented)."""

    message: Request
    reason: str
    peer: Peer | None = None


Event = Transmit | Deliver | TimedOut | TransportError | Terminated | Rejected


# --- the tables ------------------------------------------------------------------------------------------------


class State(Enum):
    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"
    TERMINATED = "Terminated"


class Input(Enum):
    PROVISIONAL = "1xx"
    SUCCESS = "2xx"
    FAILURE = "300-699"
    REQUEST = "request retransmit"
    ACK = "ACK"
    TRANSPORT_ERROR = "transport error"


class Do(Enum):
    DELIVER = "pass the message to the TU"
    SEND = "transmit the TU's response and keep it"
    RESEND_REQUEST = "retransmit the request"
    RESEND_RESPONSE = "retransmit the last response, if any"
    SEND_ACK = "build the ACK of the non-2xx (§17.1.1.3), keep it, transmit it"
    RESEND_ACK = "retransmit the ACK"
    SEND_TRYING = "transmit 100 Trying"
    TIMED_OUT = "tell the TU it timed out"
    TRANSPORT_ERROR = "tell the TU of the transport error"


S, In = State, Input
Rule = tuple[State, tuple[Do, ...]]
Table = dict[tuple[State, Input | Timer], Rule]
StateTimers = dict[State, tuple[Timer, ...]]

INVITE_CLIENT: Table = {
    (S.CALLING, Timer.A): (S.CALLING, (Do.RESEND_REQUEST,)),
    (S.CALLING, Timer.B): (S.TERMINATED, (Do.TIMED_OUT,)),
    (S.CALLING, In.PROVISIONAL): (S.PROCEEDING, (Do.DELIVER,)),
    (S.CALLING, In.SUCCESS): (S.ACCEPTED, (Do.DELIVER,)),
    (S.CALLING, In.FAILURE): (S.COMPLETED, (Do.SEND_ACK, Do.DELIVER)),
    (S.CALLING, In.TRANSPORT_ERROR): (S.TERMINATED, (Do.TRANSPORT_ERROR,)),
    (S.PROCEEDING, In.PROVISIONAL): (S.PROCEEDING, (Do.DELIVER,)),
    (S.PROCEEDING, In.SUCCESS): (S.ACCEPTED, (Do.DELIVER,)),
    (S.PROCEEDING, In.FAILURE): (S.COMPLETED, (Do.SEND_ACK, Do.DELIVER)),
    (S.COMPLETED, In.FAILURE): (S.COMPLETED, (Do.RESEND_ACK,)),
    (S.COMPLETED, In.TRANSPORT_ERROR): (S.TERMINATED, (Do.TRANSPORT_ERROR,)),
    (S.COMPLETED, Timer.D): (S.TERMINATED, ()),
    (S.ACCEPTED, In.SUCCESS): (S.ACCEPTED, (Do.DELIVER,)),
    (S.ACCEPTED, Timer.M): (S.TERMINATED, ()),
}
INVITE_CLIENT_TIMERS: StateTimers = {S.CALLING: (Timer.A, Timer.B), S.COMPLETED: (Timer.D,), S.ACCEPTED: (Timer.M,)}

NON_INVITE_CLIENT: Table = {
    (S.TRYING, Timer.E): (S.TRYING, (Do.RESEND_REQUEST,)),
    (S.TRYING, Timer.F): (S.TERMINATED, (Do.TIMED_OUT,)),
    (S.TRYING, In.PROVISIONAL): (S.PROCEEDING, (Do.DELIVER,)),
    (S.TRYING, In.SUCCESS): (S.COMPLETED, (Do.DELIVER,)),
    (S.TRYING, In.FAILURE): (S.COMPLETED, (Do.DELIVER,)),
    (S.TRYING, In.TRANSPORT_ERROR): (S.TERMINATED, (Do.TRANSPORT_ERROR,)),
    (S.PROCEEDING, Timer.E): (S.PROCEEDING, (Do.RESEND_REQUEST,)),  # every T2 from here on
    (S.PROCEEDING, Timer.F): (S.TERMINATED, (Do.TIMED_OUT,)),
    (S.PROCEEDING, In.PROVISIONAL): (S.PROCEEDING, (Do.DELIVER,)),
    (S.PROCEEDING, In.SUCCESS): (S.COMPLETED, (Do.DELIVER,)),
    (S.PROCEEDING, In.FAILURE): (S.COMPLETED, (Do.DELIVER,)),
    (S.PROCEEDING, In.TRANSPORT_ERROR): (S.TERMINATED, (Do.TRANSPORT_ERROR,)),
    (S.COMPLETED, Timer.K): (S.TERMINATED, ()),
}
NON_INVITE_CLIENT_TIMERS: StateTimers = {
    S.TRYING: (Timer.E, Timer.F),
    S.PROCEEDING: (Timer.E, Timer.F),
    S.COMPLETED: (Timer.K,),
}

INVITE_SERVER: Table = {
    (S.PROCEEDING, Timer.TRYING): (S.PROCEEDING, (Do.SEND_TRYING,)),
    (S.PROCEEDING, In.PROVISIONAL): (S.PROCEEDING, (Do.SEND,)),
    (S.PROCEEDING, In.SUCCESS): (S.ACCEPTED, (Do.SEND,)),
    (S.PROCEEDING, In.FAILURE): (S.COMPLETED, (Do.SEND,)),
    (S.PROCEEDING, In.REQUEST): (S.PROCEEDING, (Do.RESEND_RESPONSE,)),
    (S.PROCEEDING, In.TRANSPORT_ERROR): (S.TERMINATED, (Do.TRANSPORT_ERROR,)),
    (S.COMPLETED, In.REQUEST): (S.COMPLETED, (Do.RESEND_RESPONSE,)),
    (S.COMPLETED, Timer.G): (S.COMPLETED, (Do.RESEND_RESPONSE,)),
    (S.COMPLETED, Timer.H): (S.TERMINATED, (Do.TIMED_OUT,)),
    (S.COMPLETED, In.ACK): (S.CONFIRMED, ()),
    (S.COMPLETED, In.TRANSPORT_ERROR): (S.TERMINATED, (Do.TRANSPORT_ERROR,)),
    (S.CONFIRMED, Timer.I): (S.TERMINATED, ()),
    (S.ACCEPTED, In.SUCCESS): (S.ACCEPTED, (Do.SEND,)),
    (S.ACCEPTED, In.ACK): (S.ACCEPTED, (Do.DELIVER,)),
    (S.ACCEPTED, In.TRANSPORT_ERROR): (S.ACCEPTED, (Do.TRANSPORT_ERROR,)),  # RFC 6026: the TU decides
    (S.ACCEPTED, Timer.L): (S.TERMINATED, ()),
}
INVITE_SERVER_TIMERS: StateTimers = {
    S.PROCEEDING: (Timer.TRYING,),
    S.COMPLETED: (Timer.G, Timer.H),
    S.CONFIRMED: (Timer.I,),
    S.ACCEPTED: (Timer.L,),
}

NON_INVITE_SERVER: Table = {
    (S.TRYING, In.PROVISIONAL): (S.PROCEEDING, (Do.SEND,)),
    (S.TRYING, In.SUCCESS): (S.COMPLETED, (Do.SEND,)),
    (S.TRYING, In.FAILURE): (S.COMPLETED, (Do.SEND,)),
    (S.TRYING, In.REQUEST): (S.TRYING, ()),
    (S.PROCEEDING, In.PROVISIONAL): (S.PROCEEDING, (Do.SEND,)),
    (S.PROCEEDING, In.SUCCESS): (S.COMPLETED, (Do.SEND,)),
    (S.PROCEEDING, In.FAILURE): (S.COMPLETED, (Do.SEND,)),
    (S.PROCEEDING, In.REQUEST): (S.PROCEEDING, (Do.RESEND_RESPONSE,)),
    (S.PROCEEDING, In.TRANSPORT_ERROR): (S.TERMINATED, (Do.TRANSPORT_ERROR,)),
    (S.COMPLETED, In.REQUEST): (S.COMPLETED, (Do.RESEND_RESPONSE,)),
    (S.COMPLETED, In.TRANSPORT_ERROR): (S.TERMINATED, (Do.TRANSPORT_ERROR,)),
    (S.COMPLETED, Timer.J): (S.TERMINATED, ()),
}
NON_INVITE_SERVER_TIMERS: StateTimers = {S.COMPLETED: (Timer.J,)}


def response_input(status: int) -> Input:
    if not 100 <= status <= 699:
        raise TransactionError(f"status {status} is not 100-699")
    return In.PROVISIONAL if status < 200 else In.SUCCESS if status < 300 else In.FAILURE


# --- the machines ----------------------------------------------------------------------------------------------


class Transaction:
    """One transaction: a table, its state, its request, the timers that run and when they fire."""

    TABLE: ClassVar[Table]
    TIMERS: ClassVar[StateTimers]
    FIRST: ClassVar[State]

    def __init__(
        self, key: TransactionKey, request: Request, timers: Timers, peer: Peer | None = None, reliable: bool = False
    ) -> None:
        self.key = key
        self.reliable = reliable
        self.request = request
        self.peer = peer
        self.timers = timers
        self.state = self.FIRST
        self.last_response: Response | None = None
        self.ack: Request | None = None
        self._deadlines: dict[Timer, float] = {}
        self._intervals: dict[Timer, float] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key.branch} {self.key.method} {self.state.value}>"

    def start(self, now: float) -> list[Event]:
        """Start the first state's timers; what the transaction does first (send, or deliver to the TU)."""
        self._enter(self.FIRST, now)
        return []

    def next_deadline(self) -> float | None:
        return min(self._deadlines.values(), default=None)

    def deadline(self, timer: Timer) -> float | None:
        """When ``timer`` fires next; None when it does not run."""
        return self._deadlines.get(timer)

    def timeout(self, now: float) -> list[Event]:
        """Fire, in order, every timer due at ``now``."""
        events: list[Event] = []
        while self._deadlines:
            timer, due = min(self._deadlines.items(), key=lambda item: item[1])
            if due > now:
                break
            del self._deadlines[timer]
            events += self._step(timer, now) or []
            if (
                timer in RETRANSMIT_TIMERS
                and self.state is not State.TERMINATED
                and timer in self.TIMERS.get(self.state, ())
            ):
                self._rearm(timer, due, now)
        return events

    def transport_error(self, now: float) -> list[Event]:
        return self._step(In.TRANSPORT_ERROR, now) or []

    def _rearm(self, timer: Timer, due: float, now: float) -> None:
        interval = self._backoff(timer, self._intervals[timer])
        deadline = due + interval
        while deadline <= now:  # woken late: skip the retransmits that are already past
            interval = self._backoff(timer, interval)
            deadline += interval
        self._intervals[timer], self._deadlines[timer] = interval, deadline

    def _backoff(self, timer: Timer, interval: float) -> float:
        return self.timers.backoff(timer, interval)

    def _step(self, what: Input | Timer, now: float, message: Message | None = None) -> list[Event] | None:
        rule = self.TABLE.get((self.state, what))
        if rule is None:
            log.debug("%r ignores %s", self, what.value)
            return None
        next_state, actions = rule
        events = [event for action in actions for event in self._do(action, message)]
        if next_state is not self.state:
            log.debug("%r -> %s on %s", self, next_state.value, what.value)
            self._enter(next_state, now)
        if next_state is State.TERMINATED:
            events.append(Terminated(self.key))
        return events

    def _enter(self, state: State, now: float) -> None:
        self.state = state
        keep = self.TIMERS.get(state, ())
        self._deadlines = {timer: due for timer, due in self._deadlines.items() if timer in keep}
        for timer in keep:
            if self.reliable and timer in RETRANSMIT_TIMERS:
                continue
            if timer not in self._deadlines:
                reliable_zero = self.reliable and timer in ZERO_WHEN_RELIABLE
                self._intervals[timer] = 0.0 if reliable_zero else self.timers.initial(timer)
                self._deadlines[timer] = now + self._intervals[timer]

    def _do(self, action: Do, message: Message | None) -> list[Event]:
        match action:
            case Do.DELIVER:
                assert message is not None
                return [Deliver(self.key, message, self.peer)]
            case Do.SEND:
                assert isinstance(message, Response)
                self.last_response = message
                self._deadlines.pop(Timer.TRYING, None)
                return [Transmit(self.key, message, self.peer)]
            case Do.RESEND_REQUEST:
                return [Transmit(self.key, self.request, self.peer)]
            case Do.RESEND_RESPONSE:
                return [] if self.last_response is None else [Transmit(self.key, self.last_response, self.peer)]
            case Do.SEND_ACK:
                assert isinstance(message, Response)
                self.ack = ack_for(self.request, message)
                return [Transmit(self.key, self.ack, self.peer)]
            case Do.RESEND_ACK:
                return [] if self.ack is None else [Transmit(self.key, self.ack, self.peer)]
            case Do.SEND_TRYING:
                self.last_response = trying_for(self.request)
                return [Transmit(self.key, self.last_response, self.peer)]
            case Do.TIMED_OUT:
                return [TimedOut(self.key)]
            case Do.TRANSPORT_ERROR:
                return [TransportError(self.key)]


class ClientTransaction(Transaction):
    """Sends the request at ``start``; ``receive`` takes the responses the layer matched to it."""

    def start(self, now: float) -> list[Event]:
        super().start(now)
        return [Transmit(self.key, self.request, self.peer)]

    def receive(self, response: Response, now: float) -> list[Event]:
        if not 100 <= response.status <= 699:
            return []
        return self._step(response_input(response.status), now, response) or []


class InviteClientTransaction(ClientTransaction):
    TABLE = INVITE_CLIENT
    TIMERS = INVITE_CLIENT_TIMERS
    FIRST = State.CALLING


class NonInviteClientTransaction(ClientTransaction):
    TABLE = NON_INVITE_CLIENT
    TIMERS = NON_INVITE_CLIENT_TIMERS
    FIRST = State.TRYING

    def _backoff(self, timer: Timer, interval: float) -> float:
        return self.timers.t2 if self.state is State.PROCEEDING else super()._backoff(timer, interval)


class ServerTransaction(Transaction):
    """Delivers the request at ``start``; ``receive`` takes its retransmits (and ACKs), ``send_response`` the TU's
    answers."""

    def start(self, now: float) -> list[Event]:
        super().start(now)
        return [Deliver(self.key, self.request, self.peer)]

    def receive(self, request: Request, now: float) -> list[Event]:
        what = In.ACK if request.method == "ACK" else In.REQUEST
        return self._step(what, now, request) or []

    def send_response(self, response: Response, now: float) -> list[Event]:
        events = self._step(response_input(response.status), now, response)
        if events is None:
            raise TransactionError(f"{self!r} cannot send a {response.status}")
        return events


class InviteServerTransaction(ServerTransaction):
    TABLE = INVITE_SERVER
    TIMERS = INVITE_SERVER_TIMERS
    FIRST = State.PROCEEDING


class NonInviteServerTransaction(ServerTransaction):
    TABLE = NON_INVITE_SERVER
    TIMERS = NON_INVITE_SERVER_TIMERS
    FIRST = State.TRYING


# --- messages a transaction writes itself ----------------------------------------------------------------------


def ack_for(request: Request, response: Response) -> Request:
    """The ACK of a non-2xx final response to ``request`` (§17.1.1.3): same Request-URI, top Via, From, Call-ID,
    CSeq number and Route as the INVITE, the response's To (with its tag)."""
    headers = Headers([("Via", request.headers.values("Via")[0])])
    for route in request.headers.get_all("Route"):
        headers.add("Route", route)
    headers.add("Max-Forwards", "70")
    for name, source in (("From", request), ("To", response), ("Call-ID", request)):
        headers.add(name, source.headers.get(name) or "")
    headers.add("CSeq", f"{request.cseq.number} ACK")
    headers.add("Content-Length", "0")
    return Request("ACK", request.uri, headers)


def trying_for(request: Request) -> Response:
    """100 Trying (§8.2.6): the request's Via, From, To, Call-ID, CSeq and Timestamp, no To tag added."""
    copied = ("Via", "From", "To", "Call-ID", "CSeq", "Timestamp")
    headers = Headers((name, value) for name, value in request.headers if name in copied)
    headers.add("Content-Length", "0")
    return Response(100, "Trying", headers)
