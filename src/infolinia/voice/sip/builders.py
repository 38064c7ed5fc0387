"""Messages a user agent writes (RFC 3261 §8.1.1, §8.2.6, §9.1): pure functions over ``Request``/``Response``.

Tags, Call-IDs and branches are random (``secrets``); every other field comes from the arguments, so the tests
parse what these write and compare field by field. In-dialog requests and the ACK of a 2xx are the dialog's
(``dialog.py``); the ACK of a non-2xx is the client transaction's (``transaction.ack_for``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from .grammar import Param, find_param
from .headers import Address, ContentType
from .layer import new_branch
from .message import Headers, Request, Response
from .uri import Uri

MAX_FORWARDS = 70

REASONS = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    423: "Interval Too Brief",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "Version Not Supported",
    603: "Decline",
}


@dataclass(frozen=True, slots=True)
class SentBy:
    """Where this end sends from, for the Via it puts on its requests: ``SIP/2.0/UDP host:port;branch=...``."""

    host: str
    port: int | None = None
    transport: str = "UDP"

    def via(self, branch: str) -> str:
        sent_by = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"SIP/2.0/{self.transport} {sent_by};branch={branch};rport"


def new_tag() -> str:
    """A From or To tag: 64 random bits (§19.3 asks for at least 32)."""
    return secrets.token_hex(8)


def new_call_id() -> str:
    """A Call-ID: 128 random bits, no host part (so no address leaks into it)."""
    return secrets.token_hex(16)


def with_tag(address: Address, tag: str) -> Address:
    """``address`` with its ``tag`` parameter set to ``tag`` (replacing one already there)."""
    kept = tuple(param for param in address.params if param[0].lower() != "tag")
    return Address(address.uri, address.display_name, (*kept, ("tag", tag)))


def response_to(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    contact: Address | None = None,
    body: bytes = b"",
    content_type: ContentType | str | None = None,
) -> Response:
    """A response to ``request`` (§8.2.6): every Via in order, From, To, Call-ID and CSeq copied; a To without a
    tag gets ``to_tag`` (a fresh one when None: pass the dialog's own to answer an INVITE more than once), except in
    a 100, which is hop by hop; Timestamp echoed in a 100; a dialog-creating response (101-299 to INVITE) copies
    Record-Route (§12.1.1); Content-Length always."""
    headers = Headers((name, value) for name, value in request.headers if name == "Via")
    headers.add("From", _one(request, "From"))
    to = request.to
    if to.tag is None and status != 100:
        to = with_tag(to, to_tag or new_tag())
        headers.add("To", str(to))
    else:
        headers.add("To", _one(request, "To"))
    headers.add("Call-ID", _one(request, "Call-ID"))
    headers.add("CSeq", _one(request, "CSeq"))
    if status == 100 and (stamp := request.headers.get("Timestamp")) is not None:
        headers.add("Timestamp", stamp)
    if request.method == "INVITE" and 100 < status < 300:
        for route in request.headers.get_all("Record-Route"):
            headers.add("Record-Route", route)
    if contact is not None:
        headers.add("Contact", str(contact))
    _body(headers, body, content_type)
    return Response(status, reason if reason is not None else REASONS.get(status, ""), headers, body)


def new_request(
    method: str,
    uri: Uri,
    *,
    from_: Address,
    to: Address,
    sent_by: SentBy,
    contact: Address | None = None,
    call_id: str | None = None,
    cseq: int = 1,
    routes: tuple[Address, ...] = (),
    body: bytes = b"",
    content_type: ContentType | str | None = None,
) -> Request:
    """A request outside any dialog (§8.1.1): INVITE, OPTIONS, REGISTER, ... ``from_`` gets a fresh tag unless it
    has one; ``to`` is written as given (no tag); a new Call-ID unless one is given (a REGISTER keeps its own);
    Max-Forwards 70; a Via with a fresh branch; Route from ``routes`` (a preloaded route set)."""
    if from_.tag is None:
        from_ = with_tag(from_, new_tag())
    headers = Headers([("Via", sent_by.via(new_branch()))])
    for route in routes:
        headers.add("Route", str(route))
    headers.add("Max-Forwards", str(MAX_FORWARDS))
    headers.add("From", str(from_))
    headers.add("To", str(to))
    headers.add("Call-ID", call_id or new_call_id())
    headers.add("CSeq", f"{cseq} {method}")
    if contact is not None:
        headers.add("Contact", str(contact))
    _body(headers, body, content_type)
    return Request(method, uri, headers, body)


def cancel_for(invite: Request) -> Request:
    """The CANCEL of ``invite`` (§9.1): its Request-URI, Call-ID, From, To, CSeq number and Route, and only its top
    Via (the same branch, so that it matches the INVITE's server transaction); no body."""
    headers = Headers([("Via", invite.headers.values("Via")[0])])
    for route in invite.headers.get_all("Route"):
        headers.add("Route", route)
    headers.add("Max-Forwards", str(MAX_FORWARDS))
    for name in ("From", "To", "Call-ID"):
        headers.add(name, _one(invite, name))
    headers.add("CSeq", f"{invite.cseq.number} CANCEL")
    headers.add("Content-Length", "0")
    return Request("CANCEL", invite.uri, headers)


def has_lr(route: Address) -> bool:
    """Whether a Route or Record-Route URI is a loose router's (``;lr``, §19.1.1)."""
    params: tuple[Param, ...] = getattr(route.uri, "params", ())
    return find_param(params, "lr") is not None


def _one(message: Request | Response, name: str) -> str:
    value = message.headers.get(name)
    if value is None:
        raise ValueError(f"no {name} header to copy")
    return value


def _body(headers: Headers, body: bytes, content_type: ContentType | str | None) -> None:
    if body and content_type is None:
        raise ValueError("a body needs a Content-Type")
    if body:
        headers.add("Content-Type", str(content_type))
    headers.add("Content-Length", str(len(body)))
