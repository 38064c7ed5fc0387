"""A plain UDP peer for media tests: a real socket on the loopback that sends RTP and collects what arrives.

`eventually(condition)` polls a condition with a generous deadline instead of sleeping and hoping.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from infolinia.voice.rtp import RtpPacket

HEADER = struct.Struct("!BBHII")


async def eventually(condition: Callable[[], object], within: float = 10.0, what: str = "condition") -> None:
    """Wait until `condition()` is true; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {within} s in vain for {what}")
        await asyncio.sleep(0.01)


@dataclass(frozen=True)
class Arrival:
    data: bytes
    source: tuple[str, int]
    time: float

    @property
    def packet(self) -> RtpPacket:
        return RtpPacket.parse(self.data)


class Peer:
    """A UDP socket bound on `host` (any loopback address works on Linux), read by the running loop."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.arrivals: list[Arrival] = []
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sock.fileno(), self._readable)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()
        return str(host), int(port)

    def _readable(self) -> None:
        while True:
            try:
                data, source = self.sock.recvfrom(4096)
            except BlockingIOError:
                return
            self.arrivals.append(Arrival(data, (str(source[0]), int(source[1])), time.monotonic()))

    def send(self, data: bytes, to: tuple[str, int]) -> None:
        self.sock.sendto(data, to)

    def send_rtp(
        self,
        to: tuple[str, int],
        payload_type: int,
        sequence: int,
        timestamp: int,
        ssrc: int,
        payload: bytes,
        marker: bool = False,
    ) -> None:
        self.send(HEADER.pack(0x80, payload_type | (0x80 if marker else 0), sequence, timestamp, ssrc) + payload, to)

    def packets(self, payload_type: int | None = None) -> list[RtpPacket]:
        """What arrived so far, parsed; only `payload_type` when given."""
        out = [a.packet for a in self.arrivals]
        return out if payload_type is None else [p for p in out if p.payload_type == payload_type]

    async def wait_for(self, count: int, payload_type: int | None = None, within: float = 10.0) -> list[RtpPacket]:
        """The first `count` packets (of `payload_type`), waiting for them as needed."""
        await eventually(lambda: len(self.packets(payload_type)) >= count, within, f"{count} packets")
        return self.packets(payload_type)[:count]

    def clear(self) -> None:
        self.arrivals.clear()

    def close(self) -> None:
        self._loop.remove_reader(self.sock.fileno())
        self.sock.close()
