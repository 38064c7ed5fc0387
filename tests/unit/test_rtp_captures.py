"""Real captures shipped by SIPp (Debian `sip-tester`): RFC 2833/4733 key presses and a G.711 A-law call leg.

Every datagram must parse, write back to the same bytes, and decode; each DTMF file must give exactly its digit.
Without the package the tests skip, except in CI (`CI=true`), where `make test` installs it and they must run.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
from tests.pcap import udp_datagrams

from infolinia.voice.rtp import DtmfReceiver, RtpPacket, TelephoneEvent, alaw_decode_array, alaw_encode, is_rtcp

CAPTURES = Path("/usr/share/sip-tester")
DTMF_FILES = {f"dtmf_2833_{d}.pcap": d for d in "0123456789"} | {
    "dtmf_2833_star.pcap": "*",
    "dtmf_2833_pound.pcap": "#",
}


def capture(name: str) -> Path:
    path = CAPTURES / name
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing: install the Debian package sip-tester (scripts/install-test-prereqs.sh)")
        pytest.skip(f"{path} is missing (Debian package sip-tester)")
    return path


def rtp_packets(name: str) -> list[tuple[bytes, RtpPacket]]:
    out = []
    for datagram in udp_datagrams(capture(name)):
        assert not is_rtcp(datagram.payload)
        out.append((datagram.payload, RtpPacket.parse(datagram.payload)))
    return out


@pytest.mark.parametrize(("name", "digit"), sorted(DTMF_FILES.items()))
def test_dtmf_capture_gives_exactly_its_digit(name: str, digit: str) -> None:
    packets = rtp_packets(name)
    assert len(packets) == 10
    for wire, packet in packets:
        assert bytes(packet) == wire
        assert packet.payload_type == 101
        assert bytes(TelephoneEvent.parse(packet.payload)) == packet.payload
    events = [TelephoneEvent.parse(p.payload) for _, p in packets]
    assert {e.digit for e in events} == {digit}
    assert [p.marker for _, p in packets] == [True] + [False] * 9
    assert [e.end for e in events] == [False] * 7 + [True] * 3
    assert len({p.timestamp for _, p in packets}) == 1
    receiver = DtmfReceiver()
    assert [d.digit for d in map(receiver.receive, (p for _, p in packets)) if d is not None] == [digit]


@pytest.mark.parametrize("name", sorted(DTMF_FILES))
def test_dtmf_capture_without_its_first_packets_still_gives_the_digit(name: str) -> None:
    packets = [p for _, p in rtp_packets(name)]
    receiver = DtmfReceiver()
    digits = [d.digit for d in map(receiver.receive, packets[3:] + packets[5:]) if d is not None]
    assert digits == [DTMF_FILES[name]]


def test_all_dtmf_captures_in_a_row_give_every_digit_once() -> None:
    receiver = DtmfReceiver()
    heard = []
    for name in sorted(DTMF_FILES):
        heard += [d.digit for _, p in rtp_packets(name) if (d := receiver.receive(p)) is not None]
    # the files are separate recordings: their presses differ in timestamp
    assert sorted(heard) == sorted(DTMF_FILES.values())


def test_g711a_capture_parses_and_decodes() -> None:
    packets = rtp_packets("g711a.pcap")
    assert len(packets) == 236
    assert {p.payload_type for _, p in packets} == {8}
    assert len({p.ssrc for _, p in packets}) == 1
    for wire, packet in packets:
        assert bytes(packet) == wire
    sequences = [p.sequence for _, p in packets]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(sequences))
    steps = {(b.timestamp - a.timestamp) & 0xFFFFFFFF for (_, a), (_, b) in itertools.pairwise(packets)}
    sizes = {len(p.payload) for _, p in packets}
    assert steps == sizes  # one timestamp unit per 8 kHz sample, one byte per sample
    audio = b"".join(p.payload for _, p in packets)
    pcm = alaw_decode_array(audio)
    assert len(pcm) == len(audio)
    assert alaw_encode(pcm) == audio  # every A-law code survives decode and encode
    assert np.abs(pcm.astype(np.int32)).max() > 1000  # speech, not silence
