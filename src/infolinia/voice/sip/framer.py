"""Messages out of a byte stream (TCP, TLS): each ends its header section with an empty line and carries
Content-Length (RFC 3261 §18.3). The framer holds at most one message's worth of bytes."""

from __future__ import annotations

from .errors import SipError
from .grammar import parse_int
from .limits import MAX_MESSAGE_SIZE
from .message import Request, Response
from .parser import parse

_LENGTH_NAMES = (b"content-length", b"l")


class Framer:
    """``feed(bytes)`` returns the messages completed so far. After a SipError the stream cannot be resynchronised:
    the connection should be closed (``broken`` stays True and every later ``feed`` raises)."""

    def __init__(self, max_message_size: int = MAX_MESSAGE_SIZE) -> None:
        self._buffer = bytearray()
        self._max = max_message_size
        self.broken = False

    @property
    def pending(self) -> int:
        """Bytes of a message not yet complete (CRLF keep-alives not counted)."""
        return len(self._buffer.lstrip(b"\r\n"))

    def feed(self, data: bytes) -> list[Request | Response]:
        if self.broken:
            raise SipError("stream already failed")
        self._buffer += data
        messages: list[Request | Response] = []
        try:
            while (message := self._next()) is not None:
                messages.append(message)
        except SipError:
            self.broken = True
            raise
        return messages

    def _next(self) -> Request | Response | None:
        while self._buffer[:2] == b"\r\n":  # keep-alive (RFC 5626 §3.5.1 CRLF pings)
            del self._buffer[:2]
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > self._max:
                raise SipError("header section too large")
            return None
        total = end + 4 + _content_length(bytes(self._buffer[:end]))
        if total > self._max:
            raise SipError("message too large")
        if len(self._buffer) < total:
            return None
        chunk = bytes(self._buffer[:total])
        del self._buffer[:total]
        return parse(chunk, stream=True)


def _content_length(head: bytes) -> int:
    unfolded = head.replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    for line in unfolded.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip(b" \t").lower() in _LENGTH_NAMES:
            return parse_int(value.strip(b" \t").decode("ascii", "replace"), MAX_MESSAGE_SIZE, "Content-Length")
    raise SipError("no Content-Length on a stream")
