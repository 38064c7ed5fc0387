"""``parse(bytes)``: one SIP message from a datagram, checked enough that a transaction layer can trust it.

Framing follows RFC 3261 §18.3 for datagrams: bytes past Content-Length are dropped, a body shorter than
Content-Length is an error, and without Content-Length the body is the rest of the datagram (``stream=True``,
used by the stream framer, requires Content-Length instead). Beyond the syntax, a message is refused when a
header that every message needs (Via, From, To, Call-ID, CSeq) is missing or repeated, when a header this layer
reads is malformed, or when a request's CSeq method differs from its method.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import SipError
from .grammar import DIGITS, WSP, is_token, need_token, parse_int, split_list
from .headers import (
    is_star,
    parse_address,
    parse_auth,
    parse_call_id,
    parse_contacts,
    parse_content_type,
    parse_cseq,
    parse_expires,
    parse_max_forwards,
    parse_via,
)
from .limits import MAX_HEADER_LENGTH, MAX_HEADERS, MAX_MESSAGE_SIZE
from .message import SIP_VERSION, Headers, Request, Response
from .uri import OtherUri, SipUri, parse_uri

_REQUIRED = ("From", "To", "Call-ID", "CSeq")
_SINGLE = (*_REQUIRED, "Max-Forwards", "Content-Type", "Content-Length", "Expires")
_ADDRESS = ("From", "To")
_ADDRESS_LISTS = ("Route", "Record-Route")
_AUTH = ("Authorization", "Proxy-Authorization", "WWW-Authenticate", "Proxy-Authenticate")
_CHECKS: dict[str, Callable[[str], object]] = {
    "Call-ID": parse_call_id,
    "CSeq": parse_cseq,
    "Max-Forwards": parse_max_forwards,
    "Expires": parse_expires,
    "Content-Type": parse_content_type,
    "Via": parse_via,
    **dict.fromkeys(_ADDRESS, parse_address),
    **dict.fromkeys(_AUTH, parse_auth),
}


def parse(data: bytes, *, stream: bool = False) -> Request | Response:
    """The message in ``data``. Raises SipError, whose ``status`` says whether a response is due."""
    if len(data) > MAX_MESSAGE_SIZE:
        raise SipError("message too large")
    data = data.lstrip(b"\r\n")  # keep-alive CRLFs before the start line are ignored (RFC 3261 §7.5)
    end = data.find(b"\r\n\r\n")
    first, _, rest = (data if end < 0 else data[:end]).partition(b"\r\n")
    start = _start_line(_text(first))
    owed = 400 if isinstance(start, Request) else None
    try:
        if end < 0:
            raise SipError("no empty line after the header fields")
        start.headers = _headers(rest)
        start.body = _body(start.headers, data[end + 4 :], stream)
    except SipError as exc:
        raise SipError(exc.reason, status=owed) from None
    _check(start)
    return start


def _text(raw: bytes) -> str:
    if len(raw) > MAX_HEADER_LENGTH:
        raise SipError("line too long")
    text = raw.decode("utf-8", "surrogateescape")
    if "\r" in text or "\n" in text:
        raise SipError("bare CR or LF in the header section")
    return text


def _start_line(line: str) -> Request | Response:
    if line.startswith("SIP/"):
        return _status_line(line)
    parts = line.split(" ")
    if len(parts) != 3 or not is_token(parts[0]):
        # A line that still reads as a request (method first, SIP version last) is owed a 400.
        looks_like_request = is_token(parts[0]) and line.rstrip(WSP).upper().endswith(" " + SIP_VERSION)
        raise SipError("malformed Request-Line", status=400 if looks_like_request else None)
    method, uri_text, version = parts
    if version.upper() != SIP_VERSION:
        status = 505 if version.upper().startswith("SIP/") else 400
        raise SipError("SIP version not supported", status=status)
    try:
        uri = parse_uri(uri_text)
    except SipError as exc:
        raise SipError(f"bad Request-URI: {exc.reason}", status=400) from None
    return Request(method, uri)


def _status_line(line: str) -> Response:
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if version.upper() != SIP_VERSION:
        raise SipError("SIP version not supported")
    if len(code) != 3 or not all(c in DIGITS for c in code) or not 100 <= int(code) <= 699:
        raise SipError("bad status code")
    if any((ord(c) < 32 and c != "\t") or c == "\x7f" for c in reason):
        raise SipError("control character in reason phrase")
    return Response(int(code), reason)


def _headers(raw: bytes) -> Headers:
    fields: list[list[str]] = []
    for line in _text_lines(raw):
        if line[:1] in (" ", "\t"):
            if not fields:
                raise SipError("continuation line before any header")
            fields[-1].append(line.strip(WSP))
            continue
        if len(fields) >= MAX_HEADERS:
            raise SipError("too many header fields")
        fields.append([line])
    return Headers(_field(" ".join(parts)) for parts in fields)


def _text_lines(raw: bytes) -> list[str]:
    if not raw:
        return []
    return [_text(line) for line in raw.split(b"\r\n")]


def _field(text: str) -> tuple[str, str]:
    if len(text) > MAX_HEADER_LENGTH:
        raise SipError("header field too long")
    name, colon, value = text.partition(":")
    if not colon:
        raise SipError("header line without a colon")
    return need_token(name.rstrip(WSP), "header name"), value.strip(WSP)


def _body(headers: Headers, rest: bytes, stream: bool) -> bytes:
    lengths = headers.get_all("Content-Length")
    if len(lengths) > 1:
        raise SipError("more than one Content-Length")
    if not lengths:
        if stream:
            raise SipError("no Content-Length on a stream")
        return rest
    length = parse_int(lengths[0], MAX_MESSAGE_SIZE, "Content-Length")
    if len(rest) < length:
        raise SipError("body shorter than Content-Length")
    return rest[:length]


def _check(msg: Request | Response) -> None:
    try:
        _check_headers(msg.headers)
        if isinstance(msg, Request):
            _check_request(msg)
    except SipError as exc:
        if isinstance(msg, Request):
            raise SipError(exc.reason, status=exc.status or 400, request=msg) from None
        raise


def _check_headers(headers: Headers) -> None:
    if not headers.get_all("Via"):
        raise SipError("no Via header")
    for name in _SINGLE:
        count = len(headers.get_all(name))
        if count > 1 or (count == 0 and name in _REQUIRED):
            raise SipError(f"{'more than one' if count else 'no'} {name} header")
    for name, value in headers:
        check = _CHECKS.get(name)
        if check is not None:
            check(value)
        elif name == "Contact" and not is_star(value):
            parse_contacts(value)
        elif name in _ADDRESS_LISTS:
            _ = [parse_address(item) for item in split_list(value)]
        elif name == "Date" and not value.endswith(" GMT"):
            raise SipError("Date must be in GMT")


def _check_request(request: Request) -> None:
    if request.cseq.method != request.method:
        raise SipError("CSeq method differs from the request method")
    if isinstance(request.uri, OtherUri):
        raise SipError("Unsupported URI Scheme", status=416)
    if isinstance(request.uri, SipUri) and request.uri.headers:
        raise SipError("headers are not allowed in a Request-URI")
