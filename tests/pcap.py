"""A small, strict reader of classic pcap files: UDP datagrams over Ethernet/IPv4 or Linux cooked capture."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113
_ETHERTYPE_IPV4 = 0x0800
_ETHERTYPE_VLAN = 0x8100
_IPPROTO_UDP = 17
_MAGICS = {0xA1B2C3D4: "<", 0xD4C3B2A1: ">"}


SIP_TESTER = Path("/usr/share/sip-tester")


class PcapError(ValueError):
    pass


def sip_tester_capture(name: str, folder: Path = SIP_TESTER) -> Path:
    """A capture that Debian's sip-tester (SIPp) ships: skips without the package, except in CI (`CI=true`), where
    `make test` installs it and a missing file fails."""
    path = folder / name
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing: install the Debian package sip-tester (scripts/install-test-prereqs.sh)")
        pytest.skip(f"{path} is missing (Debian package sip-tester)")
    return path


@dataclass(frozen=True)
class Datagram:
    time: float
    src: tuple[str, int]
    dst: tuple[str, int]
    payload: bytes


def udp_datagrams(path: Path) -> Iterator[Datagram]:
    """Every record of the file as a UDP datagram; anything else in it is an error."""
    data = path.read_bytes()
    if len(data) < 24:
        raise PcapError("no pcap global header")
    magic = struct.unpack_from("<I", data)[0]
    if magic not in _MAGICS:
        raise PcapError(f"not a microsecond pcap file: magic {magic:#x}")
    order = _MAGICS[magic]
    major, _minor, _zone, _sigfigs, _snaplen, linktype = struct.unpack_from(order + "HHiIII", data, 4)
    if major != 2 or linktype not in (LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL):
        raise PcapError(f"unsupported pcap version {major} or link type {linktype}")
    offset = 24
    while offset < len(data):
        if offset + 16 > len(data):
            raise PcapError("truncated record header")
        seconds, micros, included, original = struct.unpack_from(order + "IIII", data, offset)
        offset += 16
        if included != original or offset + included > len(data):
            raise PcapError("truncated record")
        frame = data[offset : offset + included]
        offset += included
        try:
            yield _udp(seconds + micros / 1e6, _ip_packet(frame, linktype))
        except struct.error as exc:  # a header cut short
            raise PcapError(f"truncated frame: {exc}") from exc


def _ip_packet(frame: bytes, linktype: int) -> bytes:
    if linktype == LINKTYPE_ETHERNET:
        (ethertype,) = struct.unpack_from("!H", frame, 12)
        start = 14
        if ethertype == _ETHERTYPE_VLAN:
            (ethertype,) = struct.unpack_from("!H", frame, 16)
            start = 18
    else:
        (ethertype,) = struct.unpack_from("!H", frame, 14)
        start = 16
    if ethertype != _ETHERTYPE_IPV4:
        raise PcapError(f"not IPv4: ethertype {ethertype:#06x}")
    return frame[start:]


def _udp(time: float, ip: bytes) -> Datagram:
    if len(ip) < 20 or ip[0] >> 4 != 4:
        raise PcapError("bad IPv4 header")
    header = (ip[0] & 0x0F) * 4
    (total,) = struct.unpack_from("!H", ip, 2)
    fragment = struct.unpack_from("!H", ip, 6)[0] & 0x3FFF
    if ip[9] != _IPPROTO_UDP or fragment or total > len(ip) or header < 20:
        raise PcapError("not an unfragmented UDP/IPv4 packet")
    src, dst = ".".join(map(str, ip[12:16])), ".".join(map(str, ip[16:20]))
    sport, dport, length = struct.unpack_from("!HHH", ip, header)
    if length < 8 or header + length != total:
        raise PcapError("UDP length does not match the IPv4 length")
    return Datagram(time, (src, sport), (dst, dport), bytes(ip[header + 8 : header + length]))
