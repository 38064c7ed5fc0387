"""Header field names: compact forms (RFC 3261 §7.3.3 and later RFCs) and the spelling this layer writes."""

from __future__ import annotations

COMPACT = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

_KNOWN = (
    *COMPACT.values(),
    *("Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Authentication-Info"),
    *("Authorization", "Call-ID", "Call-Info", "Content-Disposition", "Content-Language", "CSeq", "Date"),
    *("Error-Info", "Expires", "In-Reply-To", "Max-Forwards", "Min-Expires", "Min-SE", "MIME-Version"),
    *("Organization", "P-Asserted-Identity", "Path", "Priority", "Privacy", "Proxy-Authenticate"),
    *("Proxy-Authorization", "Proxy-Require", "RAck", "Reason", "Record-Route", "Reply-To", "Require"),
    *("Retry-After", "Route", "RSeq", "Server", "Service-Route", "Subscription-State", "Timestamp"),
    *("Unsupported", "User-Agent", "Warning", "WWW-Authenticate"),
)
_CANONICAL = {name.lower(): name for name in _KNOWN}

LIST_HEADERS = frozenset(
    name.lower()
    for name in (
        *("Via", "Contact", "Route", "Record-Route", "Path", "Service-Route", "Allow", "Allow-Events"),
        *("Supported", "Require", "Proxy-Require", "Unsupported", "Accept", "Accept-Encoding"),
        *("Accept-Language", "Content-Encoding", "Content-Language", "Warning", "P-Asserted-Identity"),
    )
)
"""Headers whose value is a comma-separated list, so that several fields and one field with commas are the same."""


def canonical(name: str) -> str:
    """The long form in the usual spelling for a known name (``v`` and ``VIA`` give ``Via``); others unchanged."""
    lowered = name.lower()
    return COMPACT.get(lowered) or _CANONICAL.get(lowered) or name
