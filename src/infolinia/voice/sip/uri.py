"""SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966), and other schemes kept as opaque text.

Components are kept as written (escapes included), so that ``str(parse_uri(s))`` gives ``s`` back apart from
the scheme's case; ``unescape`` and ``SipUri.equivalent`` give the meaning (§19.1.4).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SipError
from .grammar import ALPHANUM, DIGITS, HEXDIGITS, Param, format_params, parse_int

_UNRESERVED = ALPHANUM | frozenset("-_.!~*'()")
_USER_CHARS = _UNRESERVED | frozenset("&=+$,;?/")
_PASSWORD_CHARS = _UNRESERVED | frozenset("&=+$,")
_PARAM_CHARS = _UNRESERVED | frozenset("[]/:&+$")
_HEADER_CHARS = _UNRESERVED | frozenset("[]/?:+$")
_HOST_CHARS = ALPHANUM | frozenset("-.")
_SCHEME_CHARS = ALPHANUM | frozenset("+-.")
_DIGITS_ETC = DIGITS | frozenset("+-.")  # a scheme starts with a letter
_TEL_CHARS = DIGITS | HEXDIGITS | frozenset("+-.()*#")
_OPAQUE_CHARS = _UNRESERVED | frozenset(";/?:@&=+$,[]#")
_COMPARE_ALWAYS = ("user", "ttl", "method", "maddr", "transport")


def unescape(text: str) -> bytes:
    """The octets an escaped URI component stands for (``%00`` is a NUL octet)."""
    raw = text.encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == 0x25:  # '%'
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def escape_user(text: str) -> str:
    """``text`` as a URI user part: every octet outside the user part's characters written as ``%XX``."""
    return _escape(text, _USER_CHARS)


def escape_param(text: str) -> str:
    """``text`` as a URI parameter name or value."""
    return _escape(text, _PARAM_CHARS)


def _escape(text: str, allowed: frozenset[str]) -> str:
    raw = text.encode("utf-8", "surrogateescape")
    return "".join(chr(octet) if chr(octet) in allowed else f"%{octet:02X}" for octet in raw)


def _check_chars(text: str, allowed: frozenset[str], what: str) -> str:
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%":
            if text[i + 1 : i + 2] not in HEXDIGITS or text[i + 2 : i + 3] not in HEXDIGITS:
                raise SipError(f"bad escape in URI {what}")
            i += 3
            continue
        if c not in allowed:
            raise SipError(f"character not allowed in URI {what}")
        i += 1
    return text


@dataclass(frozen=True, slots=True)
class SipUri:
    scheme: str  # "sip" or "sips"
    host: str  # as written; an IPv6 reference keeps its brackets
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: tuple[Param, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        out = [self.scheme, ":"]
        if self.user is not None:
            out += [self.user, "" if self.password is None else ":" + self.password, "@"]
        out.append(self.host if self.port is None else f"{self.host}:{self.port}")
        out.append(format_params(self.params))
        if self.headers:
            out.append("?" + "&".join(f"{n}={v}" for n, v in self.headers))
        return "".join(out)

    def param(self, name: str) -> str | None:
        """The unescaped value of URI parameter ``name`` (whose written name may itself be escaped)."""
        value = _param_key(self.params).get(name.lower().encode(), None)
        return None if value is None else value.decode("utf-8", "replace")

    def has_param(self, name: str) -> bool:
        return name.lower().encode() in _param_key(self.params)

    def equivalent(self, other: object) -> bool:
        """URI equality of RFC 3261 §19.1.4 (escapes resolved, host and parameter names without case)."""
        if not isinstance(other, SipUri):
            return False
        return (
            self.scheme == other.scheme
            and _opt_unescape(self.user) == _opt_unescape(other.user)
            and _opt_unescape(self.password) == _opt_unescape(other.password)
            and self.host.lower() == other.host.lower()
            and self.port == other.port
            and _params_match(self.params, other.params)
            and _headers_key(self.headers) == _headers_key(other.headers)
        )


@dataclass(frozen=True, slots=True)
class TelUri:
    number: str  # "+48-22-555-0100", or a local number whose context is a parameter
    params: tuple[Param, ...] = ()

    def __str__(self) -> str:
        return "tel:" + self.number + format_params(self.params)


@dataclass(frozen=True, slots=True)
class OtherUri:
    """A URI of a scheme this layer does not interpret (``http:``, ``isbn:``, ...): scheme and the rest as text."""

    scheme: str
    rest: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.rest}"


Uri = SipUri | TelUri | OtherUri


def parse_uri(text: str) -> Uri:
    scheme, colon, rest = text.partition(":")
    if not colon or not scheme or scheme[0] in _DIGITS_ETC or not all(c in _SCHEME_CHARS for c in scheme):
        raise SipError("URI without a scheme")
    scheme = scheme.lower()
    if scheme in ("sip", "sips"):
        return _parse_sip(scheme, rest)
    if scheme == "tel":
        return _parse_tel(rest)
    if not rest:
        raise SipError("empty URI")
    return OtherUri(scheme, _check_chars(rest, _OPAQUE_CHARS, "text"))


def _parse_sip(scheme: str, rest: str) -> SipUri:
    user = password = None
    at = rest.rfind("@")  # the user part may hold ? and ;, which parameters and headers cannot hold
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        user, colon, pw = userinfo.partition(":")
        _check_chars(user, _USER_CHARS, "user")
        password = _check_chars(pw, _PASSWORD_CHARS, "password") if colon else None
        if not user:
            raise SipError("empty URI user")
    rest, question, header_text = rest.partition("?")
    hostport, *param_texts = rest.split(";")
    host, port = parse_hostport(hostport)
    params = tuple(_uri_param(p) for p in param_texts)
    headers = tuple(_uri_header(h) for h in header_text.split("&")) if question else ()
    return SipUri(scheme, host, user, password, port, params, headers)


def parse_hostport(text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        close = text.find("]")
        host, port_text = text[: close + 1], text[close + 1 :]
        inner = host[1:-1]
        if close < 0 or not inner or not all(c in HEXDIGITS or c in ":." for c in inner) or ":" not in inner:
            raise SipError("bad IPv6 reference")
    else:
        host, colon, port = text.partition(":")
        port_text = colon + port
        if not host or not all(c in _HOST_CHARS for c in host) or host[0] in "-." or ".." in host:
            raise SipError("bad URI host")
    if not port_text:
        return host, None
    if not port_text.startswith(":"):
        raise SipError("bad URI host")
    return host, parse_int(port_text[1:], 65535, "URI port")


def _uri_param(text: str) -> Param:
    name, eq, value = text.partition("=")
    _check_chars(name, _PARAM_CHARS, "parameter")
    if not name:
        raise SipError("empty URI parameter")
    return (name, _check_chars(value, _PARAM_CHARS, "parameter") if eq else None)


def _uri_header(text: str) -> tuple[str, str]:
    name, eq, value = text.partition("=")
    if not name or not eq:
        raise SipError("bad URI header")
    return (_check_chars(name, _HEADER_CHARS, "header"), _check_chars(value, _HEADER_CHARS, "header"))


def _parse_tel(rest: str) -> TelUri:
    number, *param_texts = rest.split(";")
    if not number or not all(c in _TEL_CHARS for c in number):
        raise SipError("bad tel number")
    return TelUri(number, tuple(_uri_param(p) for p in param_texts))


def _opt_unescape(text: str | None) -> bytes | None:
    return None if text is None else unescape(text)


def _param_key(params: tuple[Param, ...]) -> dict[bytes, bytes | None]:
    """Unescaped parameter names (lower case) to unescaped values; the first of a repeated name wins."""
    key: dict[bytes, bytes | None] = {}
    for name, value in params:
        key.setdefault(unescape(name).lower(), None if value is None else unescape(value))
    return key


def _params_match(a: tuple[Param, ...], b: tuple[Param, ...]) -> bool:
    left, right = _lowered(_param_key(a)), _lowered(_param_key(b))
    for name in _COMPARE_ALWAYS:
        key = name.encode()
        if (key in left or key in right) and left.get(key, b"") != right.get(key, b""):
            return False
    return all(left[name] == right[name] for name in left.keys() & right.keys())


def _lowered(params: dict[bytes, bytes | None]) -> dict[bytes, bytes | None]:
    return {name: None if value is None else value.lower() for name, value in params.items()}


def _headers_key(headers: tuple[tuple[str, str], ...]) -> set[tuple[bytes, bytes]]:
    return {(unescape(n).lower(), unescape(v)) for n, v in headers}
