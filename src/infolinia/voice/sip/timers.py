"""The timer values of RFC 3261 §17 (table 4) for an unreliable transport (UDP), from T1, T2 and T4."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Timer(Enum):
    """The timers of the four transaction state machines; TRYING is the 200 ms before a server sends 100."""

    A = "A"  # INVITE client: request retransmit, doubling from T1
    B = "B"  # INVITE client: transaction timeout, 64*T1
    D = "D"  # INVITE client: wait for response retransmits, >= 32 s
    E = "E"  # non-INVITE client: request retransmit, doubling from T1 up to T2
    F = "F"  # non-INVITE client: transaction timeout, 64*T1
    G = "G"  # INVITE server: final response retransmit, doubling from T1 up to T2
    H = "H"  # INVITE server: wait for ACK, 64*T1
    I = "I"  # noqa: E741 - INVITE server: wait for ACK retransmits, T4
    J = "J"  # non-INVITE server: wait for request retransmits, 64*T1
    K = "K"  # non-INVITE client: wait for response retransmits, T4
    L = "L"  # INVITE server (RFC 6026): wait for request retransmits after a 2xx, 64*T1
    M = "M"  # INVITE client (RFC 6026): wait for 2xx retransmits and forks, 64*T1
    TRYING = "100"  # INVITE server: send 100 Trying unless the TU answered within 200 ms


@dataclass(frozen=True, slots=True)
class Timers:
    """T1 (RTT estimate), T2 (longest retransmit interval for non-INVITE requests and INVITE responses), T4
    (longest time a message stays in the network), in seconds; the defaults are those of RFC 3261."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    trying: float = 0.2
    timer_d: float = 32.0

    def __post_init__(self) -> None:
        if not 0 < self.t1 <= self.t2 or self.t4 <= 0 or self.trying < 0 or self.timer_d <= 0:
            raise ValueError("timers need 0 < T1 <= T2, T4 > 0, D > 0")

    def initial(self, timer: Timer) -> float:
        """The first interval of ``timer`` when its state starts it."""
        return {
            Timer.A: self.t1,
            Timer.E: self.t1,
            Timer.G: self.t1,
            Timer.D: max(self.timer_d, 64 * self.t1),
            Timer.I: self.t4,
            Timer.K: self.t4,
            Timer.TRYING: self.trying,
        }.get(timer, 64 * self.t1)

    def backoff(self, timer: Timer, interval: float) -> float:
        """The next interval of a retransmit timer after one of ``interval``: A doubles, E and G double up to T2."""
        return 2 * interval if timer is Timer.A else min(2 * interval, self.t2)
