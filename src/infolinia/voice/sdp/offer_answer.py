"""RFC 3264 offer/answer for audio: our answer to an offer, with G.711 and RFC 4733 telephone events.

``answer_offer(offer, local)`` answers the first audio stream it can take (RTP/AVP with PCMU or PCMA) with one
codec, chosen in our order of preference, plus ``telephone-event/8000`` under the offerer's payload type when
offered. Every other m= line is refused with port 0, as are the offer's port-0 lines (the answer has as many
m= lines as the offer, RFC 3264 §6). The direction is the mirror of the offer's (c=0.0.0.0, the hold of
RFC 2543, counts as the offerer not receiving). When no stream can be taken the result is ``NotAcceptable``
(488 Not Acceptable Here), not an exception.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .session import Connection, Media, Origin, RtpMap, SessionDescription

STATIC = {"PCMU": 0, "PCMA": 8}
"""Our codecs and their static payload types (RFC 3551)."""

MIRROR = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}
DTMF_EVENTS = "0-15"


@dataclass(frozen=True, slots=True)
class Local:
    """What we answer with: our media address and port, and the codecs we take in order of preference."""

    address: str  # an IPv4 or IPv6 address
    port: int
    session_id: str = "0"
    session_version: int = 0
    codecs: tuple[str, ...] = ("PCMU", "PCMA")
    ptime: int = 20
    username: str = "infolinia"

    def __post_init__(self) -> None:
        if not self.codecs or any(codec not in STATIC for codec in self.codecs):
            raise ValueError(f"codecs must be taken from {sorted(STATIC)}")
        if not 1 <= self.port <= 65535:
            raise ValueError("port out of range")
        ipaddress.ip_address(self.address)


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to send, and what the media shell needs: where to send, which payload types, which way."""

    sdp: SessionDescription
    codec: str  # PCMU or PCMA
    payload_type: int  # the offerer's number for it
    telephone_event: int | None  # the offerer's payload type, or None when not offered
    direction: str  # ours: sendrecv, sendonly, recvonly or inactive
    remote_address: str
    remote_port: int
    remote_ptime: int | None


@dataclass(frozen=True, slots=True)
class NotAcceptable:
    reason: str
    status: int = 488


def answer_offer(offer: SessionDescription, local: Local) -> Answer | NotAcceptable:
    chosen: tuple[int, str, int, int | None] | None = None  # index, codec, payload type, telephone-event
    for index, media in enumerate(offer.media):
        if media.media == "audio" and media.port != 0 and media.proto == "RTP/AVP":
            picked = _codec(media, local.codecs)
            if picked is not None:
                chosen = (index, picked[0], picked[1], _telephone_event(media))
                break
    if chosen is None:
        return NotAcceptable("no audio stream with PCMU or PCMA over RTP/AVP")
    index, codec, payload_type, event = chosen
    media = offer.media[index]
    connection = offer.connection_of(media)
    assert connection is not None  # parse_sdp requires one for every stream with a port
    direction = MIRROR[_offered_direction(media.direction(offer.direction), connection)]
    answered = _answer_media(media, local, codec, payload_type, event, direction)
    lines = [_refused(m) if i != index else answered for i, m in enumerate(offer.media)]
    family = "IP6" if ipaddress.ip_address(local.address).version == 6 else "IP4"
    sdp = SessionDescription(
        Origin(local.username, local.session_id, local.session_version, local.address, "IN", family),
        "-",
        Connection(local.address, family),
        offer.times,
        (),
        tuple(lines),
    )
    address = connection.address.partition("/")[0]
    refused = _unusable(address, local.address)
    if refused is not None:
        return NotAcceptable(refused)
    return Answer(sdp, codec, payload_type, event, direction, address, media.port, media.ptime)


def _unusable(address: str, local_address: str | None) -> str | None:
    """Why media cannot go to ``address``: not an IP literal (names are not resolved), or not of our family."""
    try:
        remote = ipaddress.ip_address(address)
    except ValueError:
        return f"the connection address {address[:60]!r} is not an IP address (names are not resolved)"
    if local_address is not None and remote.version != ipaddress.ip_address(local_address).version:
        ours = 6 if remote.version == 4 else 4
        return f"the connection address {address} is IPv{remote.version}; media here is IPv{ours}"
    return None


def _offered_direction(direction: str, connection: Connection) -> str:
    """RFC 3264 §8.4: the old hold, c=0.0.0.0, means the offerer receives nothing."""
    if connection.address.partition("/")[0] not in ("0.0.0.0", "::"):
        return direction
    return {"sendrecv": "sendonly", "recvonly": "inactive"}.get(direction, direction)


def _codec(media: Media, preference: tuple[str, ...]) -> tuple[str, int] | None:
    """Our most preferred codec among the offered payload types, with the offerer's number for it."""
    offered: dict[str, int] = {}
    maps = media.rtpmaps
    for payload_type in media.payload_types:
        rtpmap = maps.get(payload_type)
        if rtpmap is not None:
            name = _g711(rtpmap)
        else:
            name = next((codec for codec, static in STATIC.items() if static == payload_type), None)
        if name is not None:
            offered.setdefault(name, payload_type)
    return next(((codec, offered[codec]) for codec in preference if codec in offered), None)


def _g711(rtpmap: RtpMap) -> str | None:
    name = rtpmap.encoding.upper()
    if name in STATIC and rtpmap.clock_rate == 8000 and rtpmap.channels in (None, 1):
        return name
    return None


def _telephone_event(media: Media) -> int | None:
    maps = media.rtpmaps
    for payload_type in media.payload_types:
        rtpmap = maps.get(payload_type)
        if rtpmap is not None and rtpmap.encoding.lower() == "telephone-event" and rtpmap.clock_rate == 8000:
            return payload_type
    return None


def _answer_media(
    offer: Media, local: Local, codec: str, payload_type: int, event: int | None, direction: str
) -> Media:
    formats = [str(payload_type)]
    attributes: list[tuple[str, str | None]] = [("rtpmap", str(RtpMap(payload_type, codec, 8000)))]
    if event is not None:
        formats.append(str(event))
        attributes += [("rtpmap", f"{event} telephone-event/8000"), ("fmtp", f"{event} {DTMF_EVENTS}")]
    attributes += [("ptime", str(local.ptime)), (direction, None)]
    return Media("audio", local.port, offer.proto, tuple(formats), attributes=tuple(attributes))


def _refused(offer: Media) -> Media:
    """A refused stream: port 0 and the offer's formats (an m= line needs at least one)."""
    return Media(offer.media, 0, offer.proto, offer.formats)


# --- our offer (the agent leg: we call the agent's phone) ------------------------------------------------------

OFFER_EVENT_PT = 101
"""The payload type we offer telephone-event under (dynamic range, the common choice)."""


def make_offer(local: Local) -> SessionDescription:
    """Our offer: one sendrecv audio stream with ``local.codecs`` in order and telephone-event."""
    family = "IP6" if ipaddress.ip_address(local.address).version == 6 else "IP4"
    formats = [str(STATIC[codec]) for codec in local.codecs] + [str(OFFER_EVENT_PT)]
    attributes: list[tuple[str, str | None]] = [
        ("rtpmap", str(RtpMap(STATIC[codec], codec, 8000))) for codec in local.codecs
    ]
    attributes += [
        ("rtpmap", f"{OFFER_EVENT_PT} telephone-event/8000"),
        ("fmtp", f"{OFFER_EVENT_PT} {DTMF_EVENTS}"),
        ("ptime", str(local.ptime)),
        ("sendrecv", None),
    ]
    media = Media("audio", local.port, "RTP/AVP", tuple(formats), attributes=tuple(attributes))
    return SessionDescription(
        Origin(local.username, local.session_id, local.session_version, local.address, "IN", family),
        "-",
        Connection(local.address, family),
        ((0, 0),),
        (),
        (media,),
    )


@dataclass(frozen=True, slots=True)
class Accepted:
    """What the answer to our offer settles: the codec, its payload type, telephone-event's, where to send."""

    codec: str
    payload_type: int
    telephone_event: int | None
    remote_address: str
    remote_port: int


def read_answer(
    answer: SessionDescription, offered: tuple[str, ...] = ("PCMU", "PCMA"), local_address: str | None = None
) -> Accepted | NotAcceptable:
    """The answer to ``make_offer``: its first audio stream must keep a port, pick one of ``offered`` (RFC 3264
    §6: an answer only uses what was offered; anything else is a broken answer, 488) and name an IP address (of
    ``local_address``'s family, when given) to send to."""
    audio = next((m for m in answer.media if m.media == "audio"), None)
    if audio is None or audio.port == 0:
        return NotAcceptable("the answer refused the audio stream")
    picked = _codec(audio, tuple(offered))
    connection = answer.connection_of(audio)
    if picked is None or connection is None:
        return NotAcceptable("the answer has no offered codec or no connection address")
    address = connection.address.partition("/")[0]
    refused = _unusable(address, local_address)
    if refused is not None:
        return NotAcceptable(refused)
    return Accepted(picked[0], picked[1], _telephone_event(audio), address, audio.port)
