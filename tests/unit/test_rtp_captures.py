"""Real captures shipped by SIPp (Debian `sip-tester`): RFC 2833/4733 key presses and a G.711 A-law call leg.

Every datagram must parse, write back to the same bytes, and decode; each DTMF file must give exactly its digit.
Without the package the tests skip, except in CI (`CI=true`), where `make test` installs it and they must run.
"""

from __future__ import annotations

import itertools
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.pcap import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, PcapError, sip_tester_capture, udp_datagrams

from infolinia.voice.rtp import DtmfReceiver, RtpPacket, TelephoneEvent, alaw_decode_array, alaw_encode, is_rtcp

CAPTURES = Path("/usr/share/sip-tester")
DTMF_FILES = {f"dtmf_2833_{d}.pcap": d for d in "0123456789"} | {
    "dtmf_2833_star.pcap": "*",
    "dtmf_2833_pound.pcap": "#",
}


def capture(name: str) -> Path:
    return sip_tester_capture(name, CAPTURES)


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


def test_missing_captures_skip_locally_and_fail_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CAPTURES", tmp_path)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        capture("g711a.pcap")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="sip-tester"):
        capture("g711a.pcap")


def _pcap(linktype: int, frames: list[bytes]) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for i, frame in enumerate(frames):
        out += struct.pack("<IIII", 1_000 + i, 0, len(frame), len(frame)) + frame
    return out


def _ipv4_udp(payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", 5004, 6000, 8 + len(payload), 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    )
    return ip + udp


def test_pcap_reader_reads_linux_cooked_captures(tmp_path: Path) -> None:
    rtp = bytes(RtpPacket(0, 1, 160, 9, b"\xff" * 160))
    sll = struct.pack("!HHH8sH", 0, 1, 6, bytes(8), 0x0800)
    path = tmp_path / "sll.pcap"
    path.write_bytes(_pcap(LINKTYPE_LINUX_SLL, [sll + _ipv4_udp(rtp)]))
    [datagram] = udp_datagrams(path)
    assert (datagram.src, datagram.dst, datagram.payload) == (("10.0.0.1", 5004), ("10.0.0.2", 6000), rtp)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00" * 24,  # bad magic
        _pcap(LINKTYPE_ETHERNET, [bytes(12) + b"\x86\xdd" + bytes(40)])[:-1],  # record cut short
        _pcap(LINKTYPE_ETHERNET, [bytes(12) + b"\x86\xdd" + bytes(40)]),  # IPv6
        _pcap(LINKTYPE_ETHERNET, [bytes(12) + b"\x08\x00" + _ipv4_udp(b"abc")[:-1]]),  # IP length past the data
        _pcap(147, [b"x"]),  # unknown link type
        _pcap(LINKTYPE_ETHERNET, [bytes(13)]),  # Ethernet header cut short
        _pcap(LINKTYPE_ETHERNET, [bytes(12) + b"\x08\x00" + _ipv4_udp(b"")[:24]]),  # UDP header cut short
    ],
)
def test_pcap_reader_is_strict(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    with pytest.raises(PcapError):
        list(udp_datagrams(path))
