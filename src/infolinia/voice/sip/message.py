"""SIP requests and responses: start line, ordered header fields, body; and their wire form (``bytes(msg)``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .errors import SipError
from .grammar import split_list
from .headers import (
    Address,
    Auth,
    ContentType,
    CSeq,
    Via,
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
from .names import LIST_HEADERS, canonical
from .uri import Uri

SIP_VERSION = "SIP/2.0"


class Headers:
    """Header fields in wire order; names are kept in their long form and looked up without case.

    A lookup name may be a compact form (``v`` finds Via). ``values()`` splits list headers on the commas that
    separate values (not those inside quotes or <>), so ``Via: a, b`` and two Via fields read the same.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields: list[tuple[str, str]] = [(canonical(name), value) for name, value in fields]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._fields == other._fields

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def get_all(self, name: str) -> list[str]:
        """The value of each field called ``name``, in order."""
        key = canonical(name).lower()
        return [value for field_name, value in self._fields if field_name.lower() == key]

    def get(self, name: str) -> str | None:
        """The first field's value, or None."""
        found = self.get_all(name)
        return found[0] if found else None

    def values(self, name: str) -> list[str]:
        fields = self.get_all(name)
        if canonical(name).lower() not in LIST_HEADERS:
            return fields
        return [item for value in fields for item in split_list(value) if item]

    def add(self, name: str, value: str) -> None:
        self._fields.append((canonical(name), value))

    def set(self, name: str, value: str) -> None:
        """Replace every field called ``name`` by one, where the first was (else at the end)."""
        key = canonical(name).lower()
        at = next((i for i, (n, _) in enumerate(self._fields) if n.lower() == key), len(self._fields))
        self.remove(name)
        self._fields.insert(at, (canonical(name), value))

    def remove(self, name: str) -> None:
        key = canonical(name).lower()
        self._fields = [(n, v) for n, v in self._fields if n.lower() != key]

    def copy(self) -> Headers:
        return Headers(self._fields)


class _Typed:
    """Typed readers over ``headers``; each raises SipError when its field is malformed."""

    headers: Headers

    @property
    def via(self) -> list[Via]:
        return [via for value in self.headers.get_all("Via") for via in parse_via(value)]

    @property
    def from_(self) -> Address:
        return parse_address(self._one("From"))

    @property
    def to(self) -> Address:
        return parse_address(self._one("To"))

    @property
    def call_id(self) -> str:
        return parse_call_id(self._one("Call-ID"))

    @property
    def cseq(self) -> CSeq:
        return parse_cseq(self._one("CSeq"))

    @property
    def contacts(self) -> list[Address]:
        """Contact addresses; empty for ``Contact: *`` (see ``contact_star``) and when there is none."""
        values = self.headers.get_all("Contact")
        return [address for value in values if not is_star(value) for address in parse_contacts(value)]

    @property
    def contact_star(self) -> bool:
        return any(is_star(value) for value in self.headers.get_all("Contact"))

    @property
    def max_forwards(self) -> int | None:
        value = self.headers.get("Max-Forwards")
        return None if value is None else parse_max_forwards(value)

    @property
    def expires(self) -> int | None:
        value = self.headers.get("Expires")
        return None if value is None else parse_expires(value)

    @property
    def content_type(self) -> ContentType | None:
        value = self.headers.get("Content-Type")
        return None if value is None else parse_content_type(value)

    def auth(self, name: str) -> list[Auth]:
        """Authorization, Proxy-Authorization, WWW-Authenticate or Proxy-Authenticate values."""
        return [parse_auth(value) for value in self.headers.get_all(name)]

    def _one(self, name: str) -> str:
        value = self.headers.get(name)
        if value is None:
            raise SipError(f"no {name} header")
        return value


def _wire(start: str, headers: Headers, body: bytes) -> bytes:
    lines = [start]
    for name, value in headers:
        lines.append(f"{name}: {_length(value, len(body)) if name == 'Content-Length' else value}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("utf-8", "surrogateescape") + body


def _length(written: str, length: int) -> str:
    """Content-Length as written when it already says ``length`` (``0150`` stays), else ``length``."""
    if written and all(c in "0123456789" for c in written) and written.lstrip("0") == str(length).lstrip("0"):
        return written
    return str(length)


@dataclass(eq=True)
class Request(_Typed):
    """A request. ``bytes()`` writes Content-Length (when the message has one) as the body's length."""

    method: str
    uri: Uri
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    def __bytes__(self) -> bytes:
        return _wire(f"{self.method} {self.uri} {self.version}", self.headers, self.body)


@dataclass(eq=True)
class Response(_Typed):
    """A response; the reason phrase may be empty."""

    status: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    def __bytes__(self) -> bytes:
        return _wire(f"{self.version} {self.status} {self.reason}", self.headers, self.body)
