"""RFC 3261 §12-13 dialogs, sans-IO: the state two user agents share for one call.

A ``Dialog`` is made from an INVITE and a response that carries a To tag: ``Dialog.uac`` on the side that sent the
INVITE (from a 1xx with a tag: early, from a 2xx: confirmed), ``Dialog.uas`` on the side that answers it. It keeps
the dialog id (Call-ID, local tag, remote tag), the local and remote CSeq numbers, the remote target (the peer's
Contact) and the route set (Record-Route: as received by the UAS, reversed by the UAC), and builds the requests
sent inside it (``request``: BYE, re-INVITE, INFO, ...; ``ack``: the ACK of a 2xx).

Under RFC 6026 the transaction layer leaves two jobs to the dialog, and they live here:

- UAS: ``respond(2xx, now)`` retransmits the 2xx at T1, 2·T1, ... up to T2 (``Resend`` events) until
  ``receive_request(ACK)``; with no ACK after 64·T1 it gives up with ``NoAck``, after which the TU sends BYE
  (§13.3.1.4).
- UAC: ``ack(2xx)`` builds the ACK once per INVITE (a new branch, §13.2.2.4) and gives the same ACK again for every
  retransmission of the 2xx.

Like the transactions, nothing reads a clock: time comes in as ``now`` and the shell calls ``timeout(now)`` at
``next_deadline()``. Requests from the peer must increase the remote CSeq: ``receive_request`` returns 500 for one
that goes back (§12.2.2). Matching a message to its dialog is by ``request_dialog_id`` / ``response_dialog_id``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from .builders import MAX_FORWARDS, SentBy, has_lr
from .headers import Address, ContentType, parse_contacts
from .layer import new_branch
from .message import Headers, Request, Response
from .timers import Timers
from .uri import SipUri, Uri

log = logging.getLogger(__name__)

TARGET_REFRESH = frozenset({"INVITE", "UPDATE"})
"""Requests whose Contact replaces the remote target (RFC 3261 §12.2, RFC 3311); SUBSCRIBE/NOTIFY dialogs are not
kept here."""


class DialogError(ValueError):
    """A message that cannot make or belong to this dialog (a TU bug or a message the TU should have refused)."""


class DialogState(Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class DialogId:
    """Call-ID, this end's tag, the peer's tag (empty when an RFC 2543 peer sent none)."""

    call_id: str
    local_tag: str
    remote_tag: str


@dataclass(frozen=True, slots=True)
class Resend:
    """Retransmit our 2xx (through the INVITE server transaction while it is in Accepted, or the transport)."""

    dialog: DialogId
    response: Response


@dataclass(frozen=True, slots=True)
class NoAck:
    """64·T1 passed without an ACK for our 2xx: the retransmits stopped; the TU must now send BYE."""

    dialog: DialogId
    response: Response


DialogEvent = Resend | NoAck


def request_dialog_id(request: Request) -> DialogId:
    """The id of the dialog a received request belongs to: its To tag is ours, its From tag the peer's."""
    return DialogId(request.call_id, request.to.tag or "", request.from_.tag or "")


def response_dialog_id(response: Response) -> DialogId:
    """The id of the dialog a received response belongs to: its From tag is ours, its To tag the peer's."""
    return DialogId(response.call_id, response.from_.tag or "", response.to.tag or "")


@dataclass(slots=True)
class _Pending2xx:
    response: Response
    cseq: int
    next_at: float
    interval: float
    give_up_at: float


class Dialog:
    """One dialog; see the module's docstring. Fields are public for reading; change them through the methods."""

    def __init__(
        self,
        *,
        uac: bool,
        call_id: str,
        local: Address,
        remote: Address,
        remote_target: Uri,
        route_set: tuple[Address, ...],
        local_seq: int | None,
        remote_seq: int | None,
        sent_by: SentBy,
        contact: Address | None,
        state: DialogState,
        timers: Timers | None = None,
    ) -> None:
        self.uac = uac
        self.id = DialogId(call_id, local.tag or "", remote.tag or "")
        self.local, self.remote = local, remote
        self.remote_target = remote_target
        self.route_set = route_set
        self.local_seq, self.remote_seq = local_seq, remote_seq
        self.sent_by, self.contact = sent_by, contact
        self.state = state
        self.timers = timers or Timers()
        self._pending: _Pending2xx | None = None
        self._acks: dict[int, Request] = {}  # UAC: INVITE CSeq number -> the ACK sent for its 2xx

    def __repr__(self) -> str:
        role = "UAC" if self.uac else "UAS"
        return f"<Dialog {role} {self.id.call_id} {self.id.local_tag}/{self.id.remote_tag} {self.state.value}>"

    # --- creation ----------------------------------------------------------------------------------------------

    @classmethod
    def uac_from(cls, invite: Request, response: Response, timers: Timers | None = None) -> Dialog:
        """The dialog a 101-299 response with a To tag makes for the INVITE we sent (§12.1.2)."""
        if invite.method != "INVITE" or not 100 < response.status < 300 or response.to.tag is None:
            raise DialogError("a dialog comes from a 101-299 response with a To tag to an INVITE")
        if response.cseq.number != invite.cseq.number or response.call_id != invite.call_id:
            raise DialogError("the response is not to this INVITE")
        vias = invite.via
        top = vias[0]
        contacts = invite.contacts
        return cls(
            uac=True,
            call_id=invite.call_id,
            local=invite.from_,
            remote=response.to,
            remote_target=_target(response) or invite.uri,
            route_set=tuple(reversed(_record_route(response))),
            local_seq=invite.cseq.number,
            remote_seq=None,
            sent_by=SentBy(top.host, top.port, top.transport),
            contact=contacts[0] if contacts else None,
            state=DialogState.CONFIRMED if response.status >= 200 else DialogState.EARLY,
            timers=timers,
        )

    @classmethod
    def uas_from(
        cls,
        invite: Request,
        response: Response,
        sent_by: SentBy,
        now: float,
        timers: Timers | None = None,
    ) -> Dialog:
        """The dialog our 101-299 response (with a To tag, e.g. from ``response_to(..., to_tag=new_tag())``)
        makes for a received INVITE (§12.1.1); a 2xx starts its retransmits at ``now``."""
        if invite.method != "INVITE" or not 100 < response.status < 300 or response.to.tag is None:
            raise DialogError("a dialog comes from a 101-299 response with a To tag to an INVITE")
        target = _target(invite)
        if target is None:
            raise DialogError("an INVITE without a Contact cannot make a dialog (answer 400)")
        contacts = response.contacts
        dialog = cls(
            uac=False,
            call_id=invite.call_id,
            local=response.to,
            remote=invite.from_,
            remote_target=target,
            route_set=tuple(_record_route(invite)),
            local_seq=None,
            remote_seq=invite.cseq.number,
            sent_by=sent_by,
            contact=contacts[0] if contacts else None,
            state=DialogState.EARLY,
            timers=timers,
        )
        dialog.respond(response, now)
        return dialog

    # --- the UAS's responses to INVITE -------------------------------------------------------------------------

    def respond(self, response: Response, now: float) -> None:
        """Note a response we send to an INVITE in this dialog: a 2xx confirms the dialog and is retransmitted
        until its ACK; a non-2xx final answer to the INVITE that made an early dialog ends it (§12.3)."""
        if response.cseq.method != "INVITE" or response.status < 200:
            return
        if (response.to.tag or "") != self.id.local_tag:
            raise DialogError(f"the response's To tag is not that of {self!r}")
        if response.status < 300:
            self._set(DialogState.CONFIRMED)
            t1 = self.timers.t1
            self._pending = _Pending2xx(response, response.cseq.number, now + t1, t1, now + 64 * t1)
        elif self.state is DialogState.EARLY:
            self._set(DialogState.TERMINATED)

    def next_deadline(self) -> float | None:
        pending = self._pending
        return None if pending is None else min(pending.next_at, pending.give_up_at)

    def timeout(self, now: float) -> list[DialogEvent]:
        """Retransmit the 2xx when due (once, however late the call), or give up at 64·T1."""
        pending = self._pending
        if pending is None:
            return []
        if now >= pending.give_up_at:
            self._pending = None
            log.debug("%r: no ACK for %s within 64*T1", self, pending.response.cseq)
            return [NoAck(self.id, pending.response)]
        if now < pending.next_at:
            return []
        while pending.next_at <= now:  # a late wake sends one retransmit and keeps to the schedule
            pending.interval = min(2 * pending.interval, self.timers.t2)
            pending.next_at += pending.interval
        return [Resend(self.id, pending.response)]

    @property
    def awaiting_ack(self) -> bool:
        return self._pending is not None

    # --- requests from the peer --------------------------------------------------------------------------------

    def receive_request(self, request: Request) -> int | None:
        """Take a request the peer sent in this dialog; the status to refuse it with, or None when accepted.

        An ACK stops the retransmits of the 2xx it acknowledges. Other requests must not lower the remote CSeq
        (500); BYE ends the dialog; a target refresh (re-INVITE, UPDATE) with a Contact replaces the remote target.
        """
        if request_dialog_id(request) != self.id:
            raise DialogError(f"the request is not in {self!r}")
        cseq = request.cseq.number
        if request.method == "ACK":
            if self._pending is not None and self._pending.cseq == cseq:
                self._pending = None
                log.debug("%r: ACK %d", self, cseq)
            return None
        if request.method == "CANCEL":  # same CSeq as its INVITE; the transaction layer pairs them
            return None
        if self.remote_seq is not None and cseq < self.remote_seq:
            log.debug("%r: CSeq %d below %d", self, cseq, self.remote_seq)
            return 500
        self.remote_seq = cseq
        if request.method == "BYE":
            self._pending = None
            self._set(DialogState.TERMINATED)
        elif request.method in TARGET_REFRESH and (target := _target(request)) is not None:
            self.remote_target = target
        return None

    # --- responses from the peer (UAC side and our in-dialog requests) -----------------------------------------

    def receive_response(self, response: Response) -> None:
        """Take a response to a request we sent in this dialog (the transaction layer matched it).

        A 2xx to INVITE confirms an early dialog and recomputes its route set (§13.2.2.4); a 1xx or 2xx with a
        Contact to a target refresh replaces the remote target; a non-2xx final to the INVITE of an early dialog,
        and a 481 or 408 to any request (§12.2.1.2), end the dialog; any final response to BYE ends it.
        """
        if response_dialog_id(response) != self.id:
            raise DialogError(f"the response is not in {self!r}")
        method, status = response.cseq.method, response.status
        if status in (408, 481) or (method == "BYE" and status >= 200):
            self._set(DialogState.TERMINATED)
            return
        if method in TARGET_REFRESH and status < 300 and (target := _target(response)) is not None:
            self.remote_target = target
        if method != "INVITE" or status < 200:
            return
        if status < 300 and self.state is DialogState.EARLY:
            if self.uac:
                self.route_set = tuple(reversed(_record_route(response)))
            self._set(DialogState.CONFIRMED)
        elif status >= 300 and self.state is DialogState.EARLY:
            self._set(DialogState.TERMINATED)

    # --- requests we send --------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        body: bytes = b"",
        content_type: ContentType | str | None = None,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Request:
        """A new request in this dialog (§12.2.1.1): the next local CSeq, our From and the peer's To with their
        tags, the Call-ID, a Request-URI and Route from the remote target and route set, a new Via branch,
        Max-Forwards 70, our Contact on a target refresh. Sending BYE ends the dialog for us (§15.1.1)."""
        if method in ("ACK", "CANCEL"):
            raise DialogError(f"{method} is not built here: see ack() and builders.cancel_for()")
        if self.state is DialogState.TERMINATED:
            raise DialogError(f"{self!r} is over")
        self.local_seq = 1 if self.local_seq is None else self.local_seq + 1
        req = self._build(method, self.local_seq, body, content_type, extra)
        if method == "BYE":
            self._pending = None
            self._set(DialogState.TERMINATED)
        return req

    def ack(self, response: Response) -> Request:
        """The ACK of a 2xx to an INVITE we sent (§13.2.2.4): built once per INVITE (a new branch, the INVITE's
        CSeq number, the dialog's Request-URI and Route), the same request again for each retransmission."""
        if response.cseq.method != "INVITE" or not 200 <= response.status < 300:
            raise DialogError("ack() is for a 2xx to INVITE")
        if response_dialog_id(response) != self.id:
            raise DialogError(f"the 2xx is not in {self!r}")
        number = response.cseq.number
        if number not in self._acks:
            self.receive_response(response)
            self._acks = {number: self._build("ACK", number, b"", None, ())}
        return self._acks[number]

    def _build(
        self,
        method: str,
        cseq: int,
        body: bytes,
        content_type: ContentType | str | None,
        extra: tuple[tuple[str, str], ...],
    ) -> Request:
        uri, routes = self._route()
        headers = Headers([("Via", self.sent_by.via(new_branch()))])
        for route in routes:
            headers.add("Route", route)
        headers.add("Max-Forwards", str(MAX_FORWARDS))
        headers.add("From", str(self.local))
        headers.add("To", str(self.remote))
        headers.add("Call-ID", self.id.call_id)
        headers.add("CSeq", f"{cseq} {method}")
        if method in TARGET_REFRESH and self.contact is not None:
            headers.add("Contact", str(self.contact))
        for name, value in extra:
            headers.add(name, value)
        if body:
            if content_type is None:
                raise DialogError("a body needs a Content-Type")
            headers.add("Content-Type", str(content_type))
        headers.add("Content-Length", str(len(body)))
        return Request(method, uri, headers, body)

    def _route(self) -> tuple[Uri, list[str]]:
        """Request-URI and Route values (§12.2.1.1): loose routing when the route set is empty or its first
        entry has ``lr``; else strict routing (RFC 2543 proxies): the first route becomes the Request-URI and
        the remote target goes last in Route."""
        if not self.route_set or has_lr(self.route_set[0]):
            return self.remote_target, [str(route) for route in self.route_set]
        first = self.route_set[0].uri
        if isinstance(first, SipUri):
            first = SipUri(first.scheme, first.host, first.user, first.password, first.port, first.params)
        rest = [str(route) for route in self.route_set[1:]]
        return first, [*rest, f"<{self.remote_target}>"]

    def _set(self, state: DialogState) -> None:
        if state is not self.state:
            log.debug("%r -> %s", self, state.value)
            self.state = state


def _target(message: Request | Response) -> Uri | None:
    contacts = message.contacts
    return contacts[0].uri if contacts else None


def _record_route(message: Request | Response) -> list[Address]:
    return [address for value in message.headers.get_all("Record-Route") for address in parse_contacts(value)]
