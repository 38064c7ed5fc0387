"""RTP/RTCP port pairs from a range: RTP on an even port, RTCP on the odd one above it (RFC 3550 section 11).

Ports are handed out round-robin from where the last search stopped, so a port just released is the last to be
used again and stray packets of a finished call do not land in the next one. A pair that cannot be bound (another
program holds a port) is passed over; when no pair in the whole range binds, MediaError.
"""

from __future__ import annotations

import socket

from infolinia.voice.media.errors import MediaError
from infolinia.voice.sip.transport import udp_socket


class PortPool:
    def __init__(self, host: str, low: int, high: int) -> None:
        """Pairs within [low, high], both included."""
        first = low + (low & 1)
        if not 0 < low <= high <= 0xFFFF or first + 1 > high:
            raise MediaError(f"RTP port range {low}-{high} holds no even/odd port pair")
        self.host = host
        self._ports = range(first, high, 2)
        self._cursor = 0
        self._in_use: set[int] = set()

    @property
    def capacity(self) -> int:
        return len(self._ports)

    @property
    def in_use(self) -> int:
        return len(self._in_use)

    def acquire(self) -> tuple[int, socket.socket, socket.socket]:
        """A bound pair: (RTP port, RTP socket, RTCP socket), both non-blocking with a large receive buffer."""
        for step in range(len(self._ports)):
            index = (self._cursor + step) % len(self._ports)
            port = self._ports[index]
            if port in self._in_use:
                continue
            pair = _bind_pair(self.host, port)
            if pair is not None:
                self._cursor = index + 1
                self._in_use.add(port)
                return port, *pair
        raise MediaError(f"no free RTP port pair in {self._ports.start}-{self._ports.stop}")

    def release(self, port: int) -> None:
        self._in_use.discard(port)


def _bind_pair(host: str, port: int) -> tuple[socket.socket, socket.socket] | None:
    try:
        rtp = udp_socket(host, port)
    except OSError:
        return None
    try:
        return rtp, udp_socket(host, port + 1)
    except OSError:
        rtp.close()
        return None
