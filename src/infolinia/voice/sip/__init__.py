"""The SIP message layer (RFC 3261): pure codecs, no I/O.

``parse(bytes)`` gives a ``Request`` or ``Response``, ``bytes(message)`` gives the wire form back; ``Framer`` cuts
messages out of a stream. Every malformed or over-limit input raises ``SipError``. ``DigestChallenger``
(``digest.py``) challenges requests and checks their digest credentials against stored HA1 values.
``builders.py`` writes responses, out-of-dialog requests and CANCELs; ``Dialog`` (``dialog.py``) keeps a dialog.
"""

from __future__ import annotations

from .builders import SentBy, cancel_for, new_call_id, new_request, new_tag, response_to
from .dialog import (
    Dialog,
    DialogError,
    DialogEvent,
    DialogId,
    DialogState,
    NoAck,
    Resend,
    request_dialog_id,
    response_dialog_id,
)
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
from .layer import MAGIC_COOKIE, TransactionLayer, TransactionLimitError, new_branch
from .limits import MAX_HEADER_LENGTH, MAX_HEADERS, MAX_MESSAGE_SIZE
from .message import SIP_VERSION, Headers, Request, Response
from .names import canonical
from .parser import parse
from .timers import Timer, Timers
from .transaction import (
    Deliver,
    Event,
    Rejected,
    State,
    Terminated,
    TimedOut,
    TransactionError,
    TransactionKey,
    Transmit,
    TransportError,
)
from .uri import OtherUri, SipUri, TelUri, Uri, escape_param, escape_user, parse_uri, unescape

__all__ = [
    "MAGIC_COOKIE",
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
    "Deliver",
    "Dialog",
    "DialogError",
    "DialogEvent",
    "DialogId",
    "DialogState",
    "DigestChallenger",
    "DigestCredentials",
    "Event",
    "Framer",
    "Headers",
    "NoAck",
    "OtherUri",
    "Param",
    "Rejected",
    "Request",
    "Resend",
    "Response",
    "SentBy",
    "SipError",
    "SipUri",
    "State",
    "TelUri",
    "Terminated",
    "TimedOut",
    "Timer",
    "Timers",
    "TransactionError",
    "TransactionKey",
    "TransactionLayer",
    "TransactionLimitError",
    "Transmit",
    "TransportError",
    "Uri",
    "Via",
    "cancel_for",
    "canonical",
    "escape_param",
    "escape_user",
    "new_branch",
    "new_call_id",
    "new_request",
    "new_tag",
    "parse",
    "parse_address",
    "parse_auth",
    "parse_contacts",
    "parse_content_type",
    "parse_cseq",
    "parse_uri",
    "parse_via",
    "request_dialog_id",
    "response_dialog_id",
    "response_to",
    "unescape",
]
