"""Two SIP ends in memory: datagrams in wire form between named ends, ``latency`` seconds each; the ``first``-th
and every ``every``-th after it are lost (``loss = (first, every)``). ``log`` records what was sent, and lost."""

from __future__ import annotations

from collections.abc import Iterator

from infolinia.voice.sip import Request, Response


class LossyChannel:
    def __init__(self, loss: tuple[int, int] | None, latency: float = 0.05) -> None:
        self.loss, self.latency = loss, latency
        self.sent = self.dropped = 0
        self.in_flight: list[tuple[float, int, str, bytes]] = []
        self.log: list[tuple[str, str]] = []

    def send(self, now: float, to: str, message: Request | Response) -> None:
        self.sent += 1
        what = message.method if isinstance(message, Request) else f"{message.status} {message.cseq.method}"
        if self.loss and self.sent >= self.loss[0] and (self.sent - self.loss[0]) % self.loss[1] == 0:
            self.dropped += 1
            self.log.append((to, what + " (lost)"))
            return
        self.log.append((to, what))
        self.in_flight.append((now + self.latency, self.sent, to, bytes(message)))
        self.in_flight.sort()

    def next_arrival(self) -> float | None:
        return self.in_flight[0][0] if self.in_flight else None

    def arrivals(self, now: float) -> Iterator[tuple[str, bytes]]:
        """(to, wire) of every datagram that has arrived by ``now``, in order of arrival."""
        while self.in_flight and self.in_flight[0][0] <= now:
            _, _, to, wire = self.in_flight.pop(0)
            yield to, wire
