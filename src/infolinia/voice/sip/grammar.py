"""Lexical pieces of RFC 3261 §25 shared by URIs and header values: tokens, quoted strings, lists, parameters."""

from __future__ import annotations

from .errors import SipError
from .limits import MAX_INT_DIGITS, MAX_LIST_ITEMS

ALPHANUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
DIGITS = frozenset("0123456789")
HEXDIGITS = frozenset("0123456789abcdefABCDEF")
TOKEN_CHARS = ALPHANUM | frozenset("-.!%*_+`'~")
WORD_CHARS = TOKEN_CHARS | frozenset('()<>:\\"/[]?{}')
WSP = " \t"
# A generic parameter value is a token, a host (an IPv6 reference has colons and brackets) or a quoted string.
GEN_VALUE_CHARS = TOKEN_CHARS | frozenset(":[]")

Param = tuple[str, str | None]
"""A parameter as it is written: name, and the value (a quoted string keeps its quotes) or None."""


def is_token(text: str) -> bool:
    return bool(text) and all(c in TOKEN_CHARS for c in text)


def words(text: str) -> list[str]:
    """``text`` split on runs of SP and HTAB (the only white space of SIP's grammar)."""
    return [word for word in text.replace("\t", " ").split(" ") if word]


def need_token(text: str, what: str) -> str:
    if not is_token(text):
        raise SipError(f"{what} is not a token")
    return text


def parse_int(text: str, maximum: int, what: str) -> int:
    """A run of decimal digits no larger than ``maximum`` (leading zeros allowed, as in ``0068``)."""
    if not text or len(text) > MAX_INT_DIGITS or not all(c in DIGITS for c in text):
        raise SipError(f"{what} is not a number in range")
    value = int(text)
    if value > maximum:
        raise SipError(f"{what} is out of range")
    return value


def quoted_end(text: str, start: int) -> int:
    """Index just past the quoted string that opens at ``text[start] == '"'``."""
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] in "\r\n":
                break
            i += 2
            continue
        if c == '"':
            return i + 1
        i += 1
    raise SipError("unterminated quoted string")


def unquote(raw: str) -> str:
    """The text of a quoted string (quotes removed, quoted pairs resolved); other values are returned as they are."""
    if len(raw) < 2 or raw[0] != '"' or raw[-1] != '"':
        return raw
    out: list[str] = []
    i = 1
    while i < len(raw) - 1:
        if raw[i] == "\\":
            i += 1
        out.append(raw[i])
        i += 1
    return "".join(out)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_list(value: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside quoted strings and angle brackets; each piece stripped of white space."""
    pieces: list[str] = []
    start = i = 0
    while i < len(value):
        c = value[i]
        if c == '"':
            i = quoted_end(value, i)
            continue
        if c == "<":
            close = value.find(">", i)
            if close < 0:
                raise SipError("unterminated <")
            i = close + 1
            continue
        if c == sep:
            pieces.append(value[start:i].strip(WSP))
            if len(pieces) >= MAX_LIST_ITEMS:
                raise SipError("too many list items")
            start = i + 1
        i += 1
    pieces.append(value[start:].strip(WSP))
    return pieces


def parse_params(text: str) -> tuple[Param, ...]:
    """``;name=value;flag`` (white space allowed around ``;`` and ``=``) into a tuple of parameters."""
    text = text.strip(WSP)
    if not text:
        return ()
    if not text.startswith(";"):
        raise SipError("parameters must start with ;")
    return tuple(_param(piece) for piece in split_list(text[1:], ";"))


def _param(piece: str) -> Param:
    name, eq, value = piece.partition("=")
    name = need_token(name.rstrip(WSP), "parameter name")
    if not eq:
        return (name, None)
    value = value.lstrip(WSP)
    if value.startswith('"'):
        if quoted_end(value, 0) != len(value):
            raise SipError("text after a quoted parameter value")
        return (name, value)
    if not value or not all(c in GEN_VALUE_CHARS for c in value):
        raise SipError(f"bad value of parameter {name}")
    return (name, value)


def format_params(params: tuple[Param, ...]) -> str:
    return "".join(f";{name}" if value is None else f";{name}={value}" for name, value in params)


def find_param(params: tuple[Param, ...], name: str) -> Param | None:
    """The first parameter called ``name`` (names compare case-insensitively)."""
    lowered = name.lower()
    for param in params:
        if param[0].lower() == lowered:
            return param
    return None


def param_value(params: tuple[Param, ...], name: str) -> str | None:
    """The unquoted value of parameter ``name``; None when absent or written without a value."""
    param = find_param(params, name)
    return None if param is None or param[1] is None else unquote(param[1])
