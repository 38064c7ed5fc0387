"""Size limits: input beyond them is a SipError, checked before any work that grows with it."""

from __future__ import annotations

MAX_MESSAGE_SIZE = 64 * 1024
"""Bytes in one message, start line, headers and body together."""

MAX_HEADERS = 256
"""Header fields in one message (after unfolding)."""

MAX_HEADER_LENGTH = 8 * 1024
"""Characters in one header field (or the start line) after unfolding continuation lines."""

MAX_LIST_ITEMS = 64
"""Comma-separated values in one header field (Via, Contact, ...), and parameters of one value."""

MAX_INT_DIGITS = 20
"""Digits accepted before a number is called out of range (CSeq, Content-Length, Expires, ...)."""
