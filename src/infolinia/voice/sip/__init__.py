"""The SIP message layer (RFC 3261): pure codecs, no I/O.

``parse(bytes)`` gives a ``Request`` or ``Response``, ``bytes(message)`` gives the wire form back; ``Framer`` cuts
messages out of a stream. Every malformed or over-limit input raises ``SipError``. ``DigestChallenger``
(``digest.py``) challenges requests and checks their digest credentials against stored HA1 values.
"""

from __future__ import annotations

from .digest import Authorized, AuthResult, BadRequest, Challenge, DigestChallenger, DigestCredentials
from .errors import SipError
from .framer import Framer
from .grammar import Param
from .headers import (
    Address,
    Auth,
    ContentType,
    CSeq,
    Via,
    parse_address,
    parse_auth,
    parse_contacts,
    parse_content_type,
    parse_cseq,
    parse_via,
)
from .limits import MAX_HEADER_LENGTH, MAX_HEADERS, MAX_MESSAGE_SIZE
from .message import SIP_VERSION, Headers, Request, Response
from .names import canonical
from .parser import parse
from .uri import OtherUri, SipUri, TelUri, Uri, escape_param, escape_user, parse_uri, unescape

__all__ = [
    "MAX_HEADERS",
    "MAX_HEADER_LENGTH",
    "MAX_MESSAGE_SIZE",
    "SIP_VERSION",
    "Address",
    "Auth",
    "AuthResult",
    "Authorized",
    "BadRequest",
    "CSeq",
    "Challenge",
    "ContentType",
    "DigestChallenger",
    "DigestCredentials",
    "Framer",
    "Headers",
    "OtherUri",
    "Param",
    "Request",
    "Response",
    "SipError",
    "SipUri",
    "TelUri",
    "Uri",
    "Via",
    "canonical",
    "escape_param",
    "escape_user",
    "parse",
    "parse_address",
    "parse_auth",
    "parse_contacts",
    "parse_content_type",
    "parse_cseq",
    "parse_uri",
    "parse_via",
    "unescape",
]
