"""Typed values of the header fields a registrar and a B2BUA read (RFC 3261 §20, RFC 3581 rport).

Each ``parse_*`` takes one header field value (after unfolding) and raises SipError when it is malformed.
``str()`` of each type gives a value to put on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SipError
from .grammar import (
    WORD_CHARS,
    WSP,
    Param,
    find_param,
    format_params,
    is_token,
    need_token,
    param_value,
    parse_int,
    parse_params,
    quote,
    quoted_end,
    split_list,
    unquote,
    words,
)
from .uri import Uri, parse_hostport, parse_uri

MAX_CSEQ = 2**31 - 1
MAX_DELTA_SECONDS = 2**32 - 1
MAX_FORWARDS_LIMIT = 255


@dataclass(frozen=True, slots=True)
class Via:
    transport: str  # upper case: UDP, TCP, TLS, SCTP, WS, ...
    host: str
    port: int | None = None
    params: tuple[Param, ...] = ()
    protocol: str = "SIP/2.0"

    def __str__(self) -> str:
        sent_by = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"{self.protocol}/{self.transport} {sent_by}{format_params(self.params)}"

    @property
    def branch(self) -> str | None:
        return param_value(self.params, "branch")

    @property
    def received(self) -> str | None:
        return param_value(self.params, "received")

    @property
    def rport(self) -> int | bool:
        """RFC 3581: False when absent, True when asked for (no value), else the port filled in."""
        found = find_param(self.params, "rport")
        if found is None:
            return False
        return True if found[1] is None else parse_int(found[1], 65535, "rport")


def parse_via(value: str) -> list[Via]:
    return [_via(item) for item in split_list(value)]


def _via(text: str) -> Via:
    name, _, rest = text.partition("/")
    version, _, rest = rest.partition("/")
    rest = rest.lstrip(WSP)
    cut = next((i for i, c in enumerate(rest) if c in WSP), len(rest))
    transport, rest = rest[:cut], rest[cut:].lstrip(WSP)
    for part, what in (
        (name.strip(WSP), "Via protocol"),
        (version.strip(WSP), "Via version"),
        (transport, "transport"),
    ):
        need_token(part, what)
    cut = next((i for i, c in enumerate(rest) if c in WSP or c == ";"), len(rest))
    host, port = parse_hostport(rest[:cut])
    params = parse_params(rest[cut:])
    via = Via(transport.upper(), host, port, params, f"{name.strip(WSP).upper()}/{version.strip(WSP)}")
    _ = via.rport  # a filled-in rport is checked now
    return via


@dataclass(frozen=True, slots=True)
class Address:
    """A name-addr or addr-spec with its header parameters: From, To, Contact, Route, Record-Route, ..."""

    uri: Uri
    display_name: str | None = None  # the text, without quotes
    params: tuple[Param, ...] = ()

    def __str__(self) -> str:
        name = "" if self.display_name is None else quote(self.display_name) + " "
        return f"{name}<{self.uri}>{format_params(self.params)}"

    @property
    def tag(self) -> str | None:
        return param_value(self.params, "tag")

    @property
    def expires(self) -> int | None:
        raw = param_value(self.params, "expires")
        return None if raw is None else parse_int(raw, MAX_DELTA_SECONDS, "Contact expires")

    @property
    def q(self) -> float | None:
        raw = param_value(self.params, "q")
        return None if raw is None else _qvalue(raw)


def parse_address(text: str) -> Address:
    text = text.strip(WSP)
    if text.startswith('"'):
        end = quoted_end(text, 0)
        display: str | None = unquote(text[:end])
        rest = text[end:].lstrip(WSP)
        if not rest.startswith("<"):
            raise SipError("display name without <URI>")
        return _name_addr(display, rest)
    lt, semi = text.find("<"), text.find(";")
    if lt >= 0 and (semi < 0 or lt < semi):
        display_words = words(text[:lt])
        if not all(is_token(word) for word in display_words):
            raise SipError("display name must be tokens or a quoted string")
        return _name_addr(" ".join(display_words) if display_words else None, text[lt:])
    uri_text, sep, params = text.partition(";")
    uri_text = uri_text.rstrip(WSP)
    if any(c in uri_text for c in "?, \t"):
        raise SipError("a URI with ? or , must be enclosed in <>")
    return Address(parse_uri(uri_text), None, _address_params(sep + params))


def _name_addr(display: str | None, rest: str) -> Address:
    close = rest.find(">")
    if close < 0:
        raise SipError("unterminated <")
    return Address(parse_uri(rest[1:close]), display, _address_params(rest[close + 1 :]))


def _address_params(text: str) -> tuple[Param, ...]:
    params = parse_params(text)
    for name, value in params:
        if name.lower() == "tag" and (value is None or not is_token(value)):
            raise SipError("bad tag")
    return params


def parse_contacts(value: str) -> list[Address]:
    """Contact values; ``*`` is not an address (see ``is_star``)."""
    contacts = [parse_address(item) for item in split_list(value)]
    for contact in contacts:
        _ = contact.expires, contact.q  # checked now, so that a malformed one is refused with the message
    return contacts


def is_star(value: str) -> bool:
    return value.strip(WSP) == "*"


def _qvalue(text: str) -> float:
    whole, dot, frac = text.partition(".")
    if whole not in ("0", "1") or len(frac) > 3 or not frac.isascii() or (frac and not frac.isdigit()):
        raise SipError("bad q value")
    value = float(text if dot else whole)
    if value > 1:
        raise SipError("q value above 1")
    return value


@dataclass(frozen=True, slots=True)
class CSeq:
    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


def parse_cseq(value: str) -> CSeq:
    parts = words(value)
    if len(parts) != 2:
        raise SipError("CSeq must be a number and a method")
    return CSeq(parse_int(parts[0], MAX_CSEQ, "CSeq number"), need_token(parts[1], "CSeq method"))


def parse_call_id(value: str) -> str:
    left, at, right = value.partition("@")
    for word in (left, right) if at else (left,):
        if not word or not all(c in WORD_CHARS for c in word):
            raise SipError("bad Call-ID")
    return value


def parse_max_forwards(value: str) -> int:
    return parse_int(value, MAX_FORWARDS_LIMIT, "Max-Forwards")


def parse_expires(value: str) -> int:
    return parse_int(value, MAX_DELTA_SECONDS, "Expires")


@dataclass(frozen=True, slots=True)
class ContentType:
    type: str
    subtype: str
    params: tuple[Param, ...] = ()

    def __str__(self) -> str:
        return f"{self.type}/{self.subtype}{format_params(self.params)}"

    @property
    def mime(self) -> str:
        return f"{self.type}/{self.subtype}".lower()


def parse_content_type(value: str) -> ContentType:
    media, semi, params = value.partition(";")
    kind, slash, sub = media.partition("/")
    if not slash:
        raise SipError("Content-Type must be type/subtype")
    kind, sub = need_token(kind.strip(WSP), "media type"), need_token(sub.strip(WSP), "media subtype")
    return ContentType(kind, sub, parse_params(semi + params))


@dataclass(frozen=True, slots=True)
class Auth:
    """A challenge (WWW-/Proxy-Authenticate) or credentials (Authorization, Proxy-Authorization).

    ``params`` keep quoted values with their quotes, as written; ``get`` gives the text.
    """

    scheme: str
    params: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.scheme + " " + ", ".join(f"{name}={value}" for name, value in self.params)

    def get(self, name: str) -> str | None:
        lowered = name.lower()
        return next((unquote(value) for key, value in self.params if key.lower() == lowered), None)

    @classmethod
    def digest(cls, quoted: dict[str, str], plain: dict[str, str] | None = None) -> Auth:
        """A Digest value: ``quoted`` values are written as quoted strings, ``plain`` ones as tokens."""
        params = [(name, quote(value)) for name, value in quoted.items()]
        params += [(name, need_token(value, name)) for name, value in (plain or {}).items()]
        return cls("Digest", tuple(params))


def parse_auth(value: str) -> Auth:
    value = value.strip(WSP)
    cut = next((i for i, c in enumerate(value) if c in WSP), len(value))
    scheme = need_token(value[:cut], "auth scheme")
    rest = value[cut:].strip(WSP)
    params = tuple(_auth_param(item) for item in split_list(rest)) if rest else ()
    return Auth(scheme, params)


def _auth_param(item: str) -> tuple[str, str]:
    name, eq, raw = item.partition("=")
    name, raw = name.strip(WSP), raw.strip(WSP)
    if not eq or not is_token(name):
        raise SipError("bad auth parameter")
    if raw.startswith('"'):
        if quoted_end(raw, 0) != len(raw):
            raise SipError("text after a quoted auth parameter")
    elif not is_token(raw):
        raise SipError(f"bad value of auth parameter {name}")
    return (name, raw)
