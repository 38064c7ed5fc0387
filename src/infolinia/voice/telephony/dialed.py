"""The number a caller dialled, from the user part of an INVITE's Request-URI: the forms it is looked up by. Pure.

Carriers and phones write one number many ways: ``800100200`` (national), ``+48800100200`` (E.164),
``48800100200`` (E.164 without its plus), ``0048800100200`` (the international prefix 00), with visual separators
(``-``, ``.``, ``(``, ``)``, spaces; RFC 3966) and with the plus escaped (``%2B``). ``dialed()`` turns such a text
into the E.164 and national forms to look up, in that order; anything else is no number at all (``None``): letters,
a plus that is not first, more than 15 digits (E.164's limit), or a text longer than 64 characters (looked at no
further, so a flood of long garbage costs nothing). What is left of a whole URI (``sip:``, ``@host``,
``;user=phone``) is cut off first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["MAX_DIGITS", "MAX_TEXT", "Dialed", "dialed"]

MAX_TEXT = 64
MAX_DIGITS = 15
_SCHEMES = ("sip:", "sips:", "tel:")
_SEPARATORS = re.compile(r"[-.() ]")
_SHAPE = re.compile(r"\+?[0-9]{1,17}")  # 17: fifteen digits behind the international prefix 00


@dataclass(frozen=True, slots=True)
class Dialed:
    """``e164``: forms to match exactly against the stored E.164 numbers; ``national``: forms to match against
    their national significant numbers when no E.164 form matched."""

    e164: tuple[str, ...]
    national: tuple[str, ...]


def dialed(text: str) -> Dialed | None:
    """The forms ``text`` (a Request-URI user part, or what is left of a URI) can be found by; None if not a number."""
    if len(text) > MAX_TEXT:
        return None
    compact = _SEPARATORS.sub("", unquote(_user_part(text.strip())))
    if not _SHAPE.fullmatch(compact):
        return None
    if compact.startswith("+"):
        return _international(compact[1:])
    if compact.startswith("00"):
        return _international(compact[2:])
    if len(compact) > MAX_DIGITS:
        return None
    if compact == "0":
        return None
    if compact.startswith("0"):  # a national trunk prefix (0800 100 300), or a leading zero that belongs (Italy)
        return Dialed(e164=(), national=(compact, compact[1:]))
    return Dialed(e164=(f"+{compact}",), national=(compact,))


def _user_part(text: str) -> str:
    """``800100200`` from ``sip:800100200@host;user=phone``: no scheme, host, parameters or headers."""
    lowered = text.lower()
    for scheme in _SCHEMES:
        if lowered.startswith(scheme):
            text = text[len(scheme) :]
            break
    for stop in "@;?":
        text = text.split(stop, 1)[0]
    return text


def _international(digits: str) -> Dialed | None:
    """E.164 digits after a ``+`` or ``00``: a country code never starts with 0."""
    if not digits or digits.startswith("0") or len(digits) > MAX_DIGITS:
        return None
    return Dialed(e164=(f"+{digits}",), national=())
