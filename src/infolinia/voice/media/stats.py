"""What a leg reports about its stream (`MediaLeg.stats()`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DROP_REASONS: Final = (
    "stranger",  # not from the peer (see the source rule)
    "short",  # under 12 bytes
    "oversized",  # over MAX_PACKET
    "not_rtp",  # not RTP version 2
    "rtcp_on_rtp_port",  # RFC 5761 says RTCP: not multiplexed here
    "payload_type",  # neither the negotiated audio nor telephone-event type
    "malformed",  # CSRC, extension or padding past the end; a telephone event not 4 bytes
    "rtcp_stranger",  # RTCP from another host
    "rtcp_malformed",
)
EVENTS: Final = (
    "digits_in", "digits_out", "rtcp_in", "timeouts", "send_errors", "socket_errors", "callback_errors",
)  # fmt: skip
COUNTERS: Final = (  # what the engine adds up over its legs
    "packets_in", "packets_out", "bytes_in", "bytes_out", "bad_packets",
    *(f"dropped_{reason}" for reason in DROP_REASONS), *EVENTS,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LegStats:
    """Counters since the leg opened. `lost` and `duplicates` come from the incoming sequence numbers (RFC 3550
    A.1; lost may be negative after duplicates that fell outside the window), `jitter_ms` is the interarrival
    jitter estimate of A.8. `bad_packets` counts every datagram dropped on the RTP and RTCP ports: malformed,
    foreign payload type, RTCP on the RTP port, oversized, or from a source other than the peer's."""

    packets_in: int
    packets_out: int
    bytes_in: int
    bytes_out: int
    lost: int
    duplicates: int
    jitter_ms: float
    bad_packets: int
    digits_in: int = 0
    rtcp_in: int = 0
    send_errors: int = 0
