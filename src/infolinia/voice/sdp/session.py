"""RFC 4566 session descriptions: ``parse_sdp(bytes)`` and ``bytes(description)``, symmetric.

What a B2BUA reads is typed (origin, connection, times, media lines, attributes with rtpmap, fmtp, ptime and the
direction); the other line types (i, u, e, p, b, r, z, k) are kept as written and written back in the order
RFC 4566 §5 gives. Every malformed or over-limit input raises ``SdpError``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import MAX_FORMATS, MAX_LINES, MAX_MEDIA, MAX_SDP_SIZE, SdpError

ORDER = "vosiuepcbtrzkam"
"""Line types in the order RFC 4566 §5 writes them (session part; a media part has m i c b k a)."""

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_TEXT_TYPES = frozenset("siuep")  # free text: spaces allowed, nothing checked
_ADDRESS_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:/_%[]")
_TOKEN_CHARS = frozenset("!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz{|}~")
_RTP_PROTOS = ("RTP/AVP", "RTP/SAVP", "RTP/AVPF", "RTP/SAVPF", "UDP/TLS/RTP/SAVP", "UDP/TLS/RTP/SAVPF")


@dataclass(frozen=True, slots=True)
class Origin:
    username: str
    session_id: str  # digits, kept as written (may exceed 64 bits)
    version: int
    address: str
    nettype: str = "IN"
    addrtype: str = "IP4"

    def __str__(self) -> str:
        return f"{self.username} {self.session_id} {self.version} {self.nettype} {self.addrtype} {self.address}"


@dataclass(frozen=True, slots=True)
class Connection:
    address: str  # may carry /ttl or /count for multicast, as written
    addrtype: str = "IP4"
    nettype: str = "IN"

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"


@dataclass(frozen=True, slots=True)
class RtpMap:
    payload_type: int
    encoding: str
    clock_rate: int
    channels: int | None = None

    def __str__(self) -> str:
        tail = "" if self.channels is None else f"/{self.channels}"
        return f"{self.payload_type} {self.encoding}/{self.clock_rate}{tail}"


Attribute = tuple[str, str | None]
"""``a=name`` is (name, None); ``a=name:value`` is (name, value)."""


@dataclass(frozen=True, slots=True)
class Media:
    media: str  # audio, video, ...
    port: int
    proto: str
    formats: tuple[str, ...]
    port_count: int | None = None
    connection: Connection | None = None
    attributes: tuple[Attribute, ...] = ()
    lines: tuple[tuple[str, str], ...] = ()  # i, b, k lines as written

    def __str__(self) -> str:
        port = self.port if self.port_count is None else f"{self.port}/{self.port_count}"
        out = [f"m={self.media} {port} {self.proto} {' '.join(self.formats)}"]
        out += _lines(self.lines, "i")
        if self.connection is not None:
            out.append(f"c={self.connection}")
        out += _lines(self.lines, "bk")
        out += [_attribute(attribute) for attribute in self.attributes]
        return "\r\n".join(out)

    def attribute(self, name: str) -> str | None:
        """The value of the first ``a=name:value``; None when absent (or written without a value)."""
        return next((value for key, value in self.attributes if key == name), None)

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.attributes if key == name and value is not None]

    @property
    def is_rtp(self) -> bool:
        return self.proto in _RTP_PROTOS

    @property
    def payload_types(self) -> list[int]:
        return [int(fmt) for fmt in self.formats] if self.is_rtp else []

    @property
    def rtpmaps(self) -> dict[int, RtpMap]:
        """rtpmap attributes by payload type (the first for each type); empty for a stream that is not RTP."""
        maps: dict[int, RtpMap] = {}
        for value in self.values("rtpmap") if self.is_rtp else ():
            rtpmap = parse_rtpmap(value)
            maps.setdefault(rtpmap.payload_type, rtpmap)
        return maps

    def fmtp(self, payload_type: int) -> str | None:
        for value in self.values("fmtp"):
            head, _, params = value.partition(" ")
            if head == str(payload_type):
                return params.strip(" ")
        return None

    @property
    def ptime(self) -> int | None:
        value = self.attribute("ptime")
        return None if value is None else _number(value, 1, 10_000, "ptime")

    def direction(self, session: str = "sendrecv") -> str:
        """The media's direction attribute, else the session's (``session``), else sendrecv."""
        found = [key for key, value in self.attributes if key in DIRECTIONS and value is None]
        return found[0] if found else session


@dataclass(frozen=True, slots=True)
class SessionDescription:
    origin: Origin
    name: str = "-"
    connection: Connection | None = None
    times: tuple[tuple[int, int], ...] = ((0, 0),)
    attributes: tuple[Attribute, ...] = ()
    media: tuple[Media, ...] = ()
    lines: tuple[tuple[str, str], ...] = ()  # i u e p b r z k lines as written
    version: int = 0

    def __bytes__(self) -> bytes:
        out = [f"v={self.version}", f"o={self.origin}", f"s={self.name}"]
        out += _lines(self.lines, "iuep")
        if self.connection is not None:
            out.append(f"c={self.connection}")
        out += _lines(self.lines, "b")
        out += [f"t={start} {stop}" for start, stop in self.times]
        out += _lines(self.lines, "rzk")
        out += [_attribute(attribute) for attribute in self.attributes]
        out += [str(media) for media in self.media]
        return ("\r\n".join(out) + "\r\n").encode("utf-8")

    @property
    def direction(self) -> str:
        found = [key for key, value in self.attributes if key in DIRECTIONS and value is None]
        return found[0] if found else "sendrecv"

    def connection_of(self, media: Media) -> Connection | None:
        return media.connection or self.connection


def _lines(lines: tuple[tuple[str, str], ...], types: str) -> list[str]:
    return [f"{kind}={value}" for kind, value in sorted(lines, key=lambda line: ORDER.index(line[0])) if kind in types]


def _attribute(attribute: Attribute) -> str:
    name, value = attribute
    return f"a={name}" if value is None else f"a={name}:{value}"


# -- parsing -------------------------------------------------------------------------------------------------------


def parse_sdp(data: bytes) -> SessionDescription:
    """Parse a session description. LF alone ends a line as well as CRLF; a final newline may be missing."""
    if len(data) > MAX_SDP_SIZE:
        raise SdpError(f"session description over {MAX_SDP_SIZE} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SdpError("session description is not UTF-8") from error
    raw = text.split("\n")
    if raw and raw[-1] == "":
        raw.pop()
    if len(raw) > MAX_LINES:
        raise SdpError(f"more than {MAX_LINES} lines")
    lines = [_line(line.removesuffix("\r")) for line in raw]
    if [kind for kind, _ in lines[:3]] != ["v", "o", "s"]:
        raise SdpError("a session description starts with v=, o= and s=")
    if lines[0][1] != "0":
        raise SdpError("only SDP version 0")
    cut = next((i for i, (kind, _) in enumerate(lines) if kind == "m"), len(lines))
    session = _session(lines[3:cut], _origin(lines[1][1]), lines[2][1])
    media = _media_sections(lines[cut:])
    for item in media:
        if item.port != 0 and session.connection_of(item) is None:
            raise SdpError("a media line without a connection address")
    return replace(session, media=tuple(media))


def _line(line: str) -> tuple[str, str]:
    if len(line) < 2 or line[1] != "=" or line[0] not in ORDER:
        raise SdpError(f"not an SDP line: {line[:40]!r}")
    kind, value = line[0], line[2:]
    if kind not in _TEXT_TYPES and (value != value.strip(" ") or not value):
        raise SdpError(f"{kind}= with an empty value or spaces at its ends")
    if any(c in value for c in "\r\0"):
        raise SdpError("CR or NUL inside an SDP line")
    return kind, value


def _session(lines: list[tuple[str, str]], origin: Origin, name: str) -> SessionDescription:
    connection: Connection | None = None
    times: list[tuple[int, int]] = []
    attributes: list[Attribute] = []
    other: list[tuple[str, str]] = []
    for kind, value in lines:
        if kind == "c":
            if connection is not None:
                raise SdpError("two session c= lines")
            connection = _connection(value)
        elif kind == "t":
            times.append(_time(value))
        elif kind == "a":
            attributes.append(_attribute_of(value))
        elif kind in "iuepbrzk":
            other.append((kind, value))
        else:
            raise SdpError(f"{kind}= out of place")
    return SessionDescription(origin, name, connection, tuple(times) or ((0, 0),), tuple(attributes), (), tuple(other))


def _media_sections(lines: list[tuple[str, str]]) -> list[Media]:
    starts = [i for i, (kind, _) in enumerate(lines) if kind == "m"]
    if len(starts) > MAX_MEDIA:
        raise SdpError(f"more than {MAX_MEDIA} media lines")
    bounds = zip(starts, [*starts[1:], len(lines)][: len(starts)], strict=True)
    return [_media(lines[start][1], lines[start + 1 : end]) for start, end in bounds]


def _media(value: str, lines: list[tuple[str, str]]) -> Media:
    parts = value.split(" ")
    if len(parts) < 4 or "" in parts:
        raise SdpError("m= needs media, port, proto and at least one format")
    if len(parts) - 3 > MAX_FORMATS:
        raise SdpError(f"more than {MAX_FORMATS} formats on one m= line")
    kind, port_text, proto, formats = parts[0], parts[1], parts[2], tuple(parts[3:])
    port_part, slash, count_part = port_text.partition("/")
    port = _number(port_part, 0, 65535, "port")
    count = _number(count_part, 1, 65535, "port count") if slash else None
    for word in (kind, proto):
        _token(word.replace("/", "."), "m= field")
    for fmt in formats:
        _token(fmt, "format")
    connection: Connection | None = None
    attributes: list[Attribute] = []
    other: list[tuple[str, str]] = []
    for line_kind, line_value in lines:
        if line_kind == "c" and connection is None:
            connection = _connection(line_value)
        elif line_kind == "a":
            attributes.append(_attribute_of(line_value))
        elif line_kind in "ibk":
            other.append((line_kind, line_value))
        else:
            raise SdpError(f"{line_kind}= out of place in a media section")
    media = Media(kind, port, proto, formats, count, connection, tuple(attributes), tuple(other))
    _ = media.ptime  # checked now
    if media.is_rtp:
        for fmt in formats:
            _number(fmt, 0, 127, "RTP payload type")
        _ = media.rtpmaps
        for fmtp in media.values("fmtp"):
            _number(fmtp.partition(" ")[0], 0, 127, "fmtp payload type")
    return media


def _origin(value: str) -> Origin:
    parts = value.split(" ")
    if len(parts) != 6:
        raise SdpError("o= needs six fields")
    username, session_id, version, nettype, addrtype, address = parts
    if not session_id.isascii() or not session_id.isdigit() or len(session_id) > 40:
        raise SdpError("bad o= session id")
    _token(username, "o= username")
    _connection(f"{nettype} {addrtype} {address}")
    return Origin(username, session_id, _number(version, 0, 10**40, "o= version"), address, nettype, addrtype)


def _connection(value: str) -> Connection:
    parts = value.split(" ")
    if len(parts) != 3:
        raise SdpError("c= needs nettype, addrtype and address")
    nettype, addrtype, address = parts
    _token(nettype, "nettype")
    _token(addrtype, "addrtype")
    if not address or not set(address) <= _ADDRESS_CHARS:
        raise SdpError("bad connection address")
    return Connection(address, addrtype, nettype)


def _time(value: str) -> tuple[int, int]:
    parts = value.split(" ")
    if len(parts) != 2:
        raise SdpError("t= needs start and stop")
    return _number(parts[0], 0, 2**64, "t= start"), _number(parts[1], 0, 2**64, "t= stop")


def _attribute_of(value: str) -> Attribute:
    name, colon, rest = value.partition(":")
    _token(name, "attribute name")
    return (name, rest if colon else None)


def parse_rtpmap(value: str) -> RtpMap:
    payload, _, encoding = value.partition(" ")
    parts = encoding.strip(" ").split("/")
    if len(parts) not in (2, 3) or not parts[0]:
        raise SdpError("rtpmap needs <payload type> <encoding>/<clock rate>[/<channels>]")
    _token(parts[0], "encoding name")
    channels = _number(parts[2], 1, 255, "channels") if len(parts) == 3 else None
    clock = _number(parts[1], 1, 10**7, "clock rate")
    return RtpMap(_number(payload, 0, 127, "rtpmap payload type"), parts[0], clock, channels)


def _number(text: str, low: int, high: int, what: str) -> int:
    if not text or len(text) > 40 or not text.isascii() or not text.isdigit():
        raise SdpError(f"bad {what}: {text[:20]!r}")
    number = int(text)
    if not low <= number <= high:
        raise SdpError(f"{what} out of range")
    return number


def _token(text: str, what: str) -> str:
    if not text or not set(text) <= _TOKEN_CHARS:
        raise SdpError(f"bad {what}: {text[:20]!r}")
    return text
