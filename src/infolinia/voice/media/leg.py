"""One call leg's media: an RTP socket on an even port, RTCP on the next, and what flows through them.

What the leg sends, on each media clock tick while it is connected and not bridged (one stream, `OutStream`):
an RFC 4733 event frame while digits go out, else the next frame of what is playing, else comfort silence, so
the far end's jitter buffer and any NAT binding on the way stay fed. Bridged, it sends what the other leg
receives, forwarded at once (`Relay`), and the clock only carries its digits.

What the leg accepts (the source rule): RTP only from the connected peer's host, from any port until the first
valid packet, then only from that address (latching, symmetric RTP in the spirit of RFC 4961: replies go where the
peer really sends from, which is what works behind NAT). Latching connects the socket, so from then on the kernel
drops datagrams from any other address (uncounted) and sending needs no address. A stranger cannot inject audio
or move the latch; a re-INVITE that changes the peer (`connect` again) learns anew on a fresh socket of the same
port. Everything else is counted and dropped, never raised: short or oversized datagrams, other RTP versions,
RTCP on the RTP port, payload types not negotiated, malformed CSRC/extension/padding, telephone events that are
not 4 bytes.

The receive path reads one datagram per wake-up into a buffer the engine's legs share (`recvfrom_into`), reads
the header in one `struct` call, and forwards by rewriting that buffer in place: no allocation per packet beyond
what the socket module makes, no logging. User callbacks (`on_digit`, `on_timeout`, `on_done`) run on the event loop; an
exception in one is logged and counted, and the media goes on.
"""

from __future__ import annotations

import logging
import socket
import struct
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, get_args

from infolinia.voice.media.address import Peer, ip_literal, peer
from infolinia.voice.media.audio import Audio
from infolinia.voice.media.codecs import CODECS, RATE, SILENCE, Codec, codec_of, transcoder
from infolinia.voice.media.digits import DigitSender
from infolinia.voice.media.errors import MediaError
from infolinia.voice.media.outstream import OutStream
from infolinia.voice.media.playback import Playback
from infolinia.voice.media.reception import Reception
from infolinia.voice.media.recording import Recording
from infolinia.voice.media.relay import Relay
from infolinia.voice.media.stats import COUNTERS, LegStats
from infolinia.voice.rtp import DtmfFrame, DtmfReceiver, RtpError, RtpPacket, parse_rtcp
from infolinia.voice.sip.transport import udp_socket

if TYPE_CHECKING:
    from infolinia.voice.media.engine import MediaEngine

log = logging.getLogger(__name__)

Direction = Literal["sendrecv", "sendonly", "recvonly", "inactive"]
DIRECTIONS: Final = frozenset(get_args(Direction))

MAX_PACKET: Final = 1500  # bytes; a larger datagram is dropped as oversized
DRAIN_LIMIT: Final = 64  # RTCP datagrams read per wake-up
EVENT_SIZE: Final = 4
_FIELDS: Final = struct.Struct("!HII")  # sequence, timestamp, SSRC at offset 2
_NONE: Final = -1  # no payload type: matches none


class MediaLeg:
    """Made by `MediaEngine.open_leg()`; driven by the call control from SDP negotiation to hang-up."""

    # slots: the receive path reads a dozen attributes per packet of a leg last touched 20 ms ago
    __slots__ = (
        "_bridge",
        "_buffer",
        "_closed",
        "_codec",
        "_digits",
        "_dropped",
        "_dtmf",
        "_dtmf_pt",
        "_engine",
        "_events",
        "_expect_media",
        "_last_rx",
        "_latched",
        "_listener",
        "_local",
        "_marker",
        "_on_done",
        "_out",
        "_playback",
        "_pt",
        "_reception",
        "_recording",
        "_relay",
        "_remote",
        "_rtcp",
        "_rtp",
        "_scheduled",
        "_send_to",
        "_sends",
        "_silence",
        "_source_host",
        "_timeout_seen",
        "_view",
        "bytes_in",
        "bytes_out",
        "on_digit",
        "on_timeout",
        "packets_in",
        "packets_out",
        "port",
    )  # fmt: skip

    on_digit: Callable[[str], None] | None
    """Called with each RFC 4733 key press received ("0"-"9", "*", "#", "A"-"D"), once per press."""
    on_timeout: Callable[[], None] | None
    """Called when no RTP came for the engine's `media_timeout_s` while media was expected: a dead peer."""

    def __init__(self, engine: MediaEngine, port: int, rtp: socket.socket, rtcp: socket.socket) -> None:
        self._engine = engine
        self._buffer = engine.buffer
        self._view = engine.view
        self._rtp = rtp
        self._rtcp = rtcp
        self.port = port
        self._local: Peer = (str(rtp.getsockname()[0]), port)
        self.on_digit = None
        self.on_timeout = None
        # negotiated
        self._remote: Peer | None = None
        self._source_host: str | None = None
        self._latched: tuple[str | int, ...] | None = None
        self._send_to: tuple[str | int, ...] | None = None
        self._codec: Codec | None = None
        self._pt = _NONE
        self._dtmf_pt = _NONE
        self._expect_media = False
        self._sends = True
        # sending
        self._out = OutStream()
        self._scheduled = False
        self._marker = True
        self._silence = SILENCE["PCMU"]
        self._playback: Playback | None = None
        self._on_done: Callable[[], None] | None = None
        self._digits = DigitSender()
        self._bridge: MediaLeg | None = None
        self._relay: Relay[MediaLeg] | None = None
        self._recording: Recording | None = None
        self._listener: Callable[[Codec, bytes], None] | None = None
        # receiving
        self._reception = Reception()
        self._dtmf = DtmfReceiver()
        self._last_rx = 0.0
        self._timeout_seen = -1.0
        self._closed = False
        # counters
        self.packets_in = self.bytes_in = self.packets_out = self.bytes_out = 0
        self._dropped: Counter[str] = Counter()
        self._events: Counter[str] = Counter()
        engine.loop.add_reader(rtp.fileno(), self._rtp_readable)
        engine.loop.add_reader(rtcp.fileno(), self._rtcp_readable)

    # --- what the call control sees --------------------------------------------------------------------------

    @property
    def local_address(self) -> Peer:
        """Where this leg receives RTP (RTCP on the port above): the address for the SDP."""
        return self._local

    @property
    def remote_address(self) -> tuple[str | int, ...] | None:
        """The peer: the latched source once packets came, else the negotiated address."""
        return self._latched or self._remote

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def bridged_to(self) -> MediaLeg | None:
        return self._bridge

    @property
    def playing(self) -> bool:
        return self._playback is not None

    def connect(
        self,
        remote: tuple[str, int] | None,
        payload_type: int,
        dtmf_payload_type: int | None,
        *,
        codec: Codec | None = None,
        direction: Direction = "sendrecv",
        source_host: str | None = None,
    ) -> None:
        """Apply an SDP negotiation (the `Answer` of `voice.sdp` has every argument): the peer's RTP address, the
        audio payload type and the telephone-event payload type (None: not negotiated). Again on a re-INVITE; the
        latch is kept when the peer stays the same.

        `codec` names the law of a dynamic payload type; static 0 is PCMU and 8 PCMA. `direction` is ours:
        sendonly or inactive (the peer does not send) keep `on_timeout` quiet, recvonly or inactive send nothing
        (no prompts, digits or forwarded media). `remote` None (no address yet, or hold with c=0.0.0.0) sends
        nothing and accepts nothing. `source_host` is the host media is accepted from until latched, by default
        the remote's: for a caller whose SDP carries a private address behind NAT, pass the host the SIP request
        came from.
        """
        self._check_open()
        if codec is None:
            codec = codec_of(payload_type)
        elif codec not in CODECS or not 0 <= payload_type <= 127:
            raise MediaError(f"cannot send {codec} as payload type {payload_type}")
        if direction not in DIRECTIONS:
            raise MediaError(f"not an SDP direction: {direction!r}")
        if dtmf_payload_type is not None and not (0 <= dtmf_payload_type <= 127 and dtmf_payload_type != payload_type):
            raise MediaError(f"telephone-event payload type {dtmf_payload_type} is not a free RTP payload type")
        address = None if remote is None else peer(remote, self._local[0])
        source = None if address is None else ip_literal(source_host) if source_host else address[0]
        if (address, source) != (self._remote, self._source_host):
            self._unlatch()
        self._remote, self._source_host = address, source
        self._sends = direction in ("sendrecv", "sendonly")
        self._aim()
        self._codec, self._pt = codec, payload_type
        self._dtmf_pt = _NONE if dtmf_payload_type is None else dtmf_payload_type
        self._silence = SILENCE[codec]
        if self._playback is not None:
            self._playback.use(codec)
        self._expect_media = direction in ("sendrecv", "recvonly") and address is not None
        self._last_rx = self._engine.now()
        self._link()
        if self._bridge is not None:
            self._bridge._link()
        self._reschedule()

    def play(
        self, audio: Audio | Sequence[Audio], *, loop: bool = False, on_done: Callable[[], None] | None = None
    ) -> None:
        """Play `audio` (or several, one after the other), replacing what was playing; frames go out on the media
        clock from the next tick once connected. `on_done` is called once after the last frame was sent; never
        when looping, nor when playback is stopped, replaced, or the leg bridged or closed first."""
        self._check_open()
        if self._bridge is not None:
            raise MediaError("the leg is bridged: unbridge it before playing to it")
        parts = [audio] if isinstance(audio, Audio) else list(audio)
        self._playback = Playback(parts, self._codec or "PCMU", loop)
        self._on_done = on_done

    def stop_playback(self) -> None:
        """Stop playing (without `on_done`); the leg goes on with comfort silence."""
        self._playback = None
        self._on_done = None

    def send_digits(self, digits: str) -> None:
        """Send RFC 4733 key presses (100 ms each, 100 ms apart) on the media clock, after any still queued."""
        self._check_open()
        if self._dtmf_pt == _NONE or self._remote is None:
            raise MediaError("no telephone-event payload type negotiated with a peer to send digits to")
        self._digits.add(digits)
        self._reschedule()

    def bridge(self, other: MediaLeg) -> None:
        """Connect this leg's media with `other`'s, both directions; playback stops on both.

        Each packet received on one leg goes out at once on the other, with the other leg's SSRC, sequence and
        timestamp base (see `relay.py`), PCMU <-> PCMA translated when their codecs differ, telephone events with
        the other leg's payload type (dropped when it has none). A leg bridged elsewhere is unbridged first.
        """
        self._check_open()
        other._check_open()
        if other is self or other._engine is not self._engine:
            raise MediaError("a leg bridges only with another leg of the same engine")
        if self._bridge is other:
            return
        self.unbridge()
        other.unbridge()
        self.stop_playback()
        other.stop_playback()
        self._bridge, other._bridge = other, self
        for leg in (self, other):
            leg._link()
            leg._reschedule()

    def unbridge(self) -> None:
        """Undo `bridge` on both legs; each goes back to comfort silence. Nothing when not bridged."""
        other = self._bridge
        if other is None:
            return
        self._bridge = other._bridge = None
        self._relay = other._relay = None
        for leg in (self, other):
            leg._reschedule()

    def record(self, path: Path) -> Recording:
        """Record to a stereo WAV at `path` (left: received from the peer, right: sent to it) until
        `Recording.stop()` or `close()`; a recording already running stops first."""
        self._check_open()
        if self._recording is not None:
            self._recording.stop()
        engine = self._engine
        recording = Recording(path, engine.tick_time(), engine.now, lambda: self._recording_stopped(recording))
        self._recording = recording
        return recording

    def listen(self, listener: Callable[[Codec, bytes], None] | None) -> None:
        """Hand every audio payload received from now on (its codec, the payload) to ``listener``, in the media
        loop, so it must be quick; None stops it."""
        self._listener = listener

    def stats(self) -> LegStats:
        return LegStats(
            packets_in=self.packets_in,
            packets_out=self.packets_out,
            bytes_in=self.bytes_in,
            bytes_out=self.bytes_out,
            lost=self._reception.lost,
            duplicates=self._reception.duplicates,
            jitter_ms=self._reception.jitter * 1000 / RATE,
            bad_packets=sum(self._dropped.values()),
            digits_in=self._events["digits_in"],
            rtcp_in=self._events["rtcp_in"],
            send_errors=self._events["send_errors"],
        )

    def close(self) -> None:
        """Stop everything, close both sockets and give the ports back. Idempotent."""
        if self._closed:
            return
        self.unbridge()
        self.stop_playback()
        self._digits.clear()
        if self._recording is not None:
            self._recording.stop()
        self._closed = True
        self._reschedule()
        loop = self._engine.loop
        for sock in (self._rtp, self._rtcp):
            loop.remove_reader(sock.fileno())
            sock.close()
        self._engine.leg_closed(self)

    # --- for the engine --------------------------------------------------------------------------------------

    def counters(self) -> dict[str, int]:
        """Everything the engine adds up over its legs (every key of `stats.COUNTERS`)."""
        totals: Counter[str] = Counter(dict.fromkeys(COUNTERS, 0))
        self.add_counters(totals)
        return dict(totals)

    def add_counters(self, totals: Counter[str]) -> None:
        """Add this leg's counters to `totals`: what `counters()` has, at a few microseconds per leg (a health
        check sums them over every leg, between two packets of the media plane)."""
        totals["packets_in"] += self.packets_in
        totals["packets_out"] += self.packets_out
        totals["bytes_in"] += self.bytes_in
        totals["bytes_out"] += self.bytes_out
        if self._dropped:
            totals["bad_packets"] += sum(self._dropped.values())
            for reason, count in self._dropped.items():
                totals[f"dropped_{reason}"] += count
        if self._events:
            totals.update(self._events)

    def tick(self, deadline: float, skipped: int) -> None:
        """Send this tick's packet (the engine calls it for each leg on the grid, every 20 ms)."""
        send_to = self._send_to
        if send_to is None or not self._scheduled:
            return  # taken off the grid while this tick was under way
        timestamp = self._out.advance(deadline)
        if self._digits.active:
            frame = self._digits.tick(timestamp)
            if frame is not None:
                self._send_event(frame, send_to)
                return
        if self._bridge is not None:
            self._reschedule()  # the digits are out, or pausing: the bridge carries the audio
            return
        playback = self._playback
        payload = self._silence if playback is None else playback.next(skipped) or self._silence
        self._send(self._out.header(self._pt, self._marker, timestamp) + payload, send_to)
        self._marker = False
        if self._recording is not None and self._codec is not None:
            self._recording.sent(self._codec, payload, self._out.ssrc, timestamp, deadline)
        if playback is not None and playback.finished:
            callback, self._playback, self._on_done = self._on_done, None, None
            self._notify(callback)

    def _send_event(self, frame: DtmfFrame, send_to: tuple[str | int, ...]) -> None:
        self._send(self._out.header(self._dtmf_pt, frame.marker, frame.timestamp) + bytes(frame.event), send_to)
        self._events["digits_out"] += frame.marker

    def housekeeping(self, now: float, timeout: float) -> None:
        """The engine's slow timer: write out recorded audio; report a peer silent for `timeout` seconds."""
        if self._recording is not None:
            self._recording.flush(now)
        last = self._last_rx
        if self._expect_media and now - last >= timeout and last != self._timeout_seen:
            self._timeout_seen = last
            self._events["timeouts"] += 1
            self._notify(self.on_timeout)

    # --- receiving -------------------------------------------------------------------------------------------

    def _rtp_readable(self) -> None:
        """Read one datagram. The loop calls again while the socket holds more (readiness is level-triggered):
        cheaper than the exception that ends a drain loop, and one flooded port cannot hold the loop."""
        buf = self._buffer
        addr = None
        try:
            if self._latched is not None:  # connected: the kernel keeps everyone else out
                n = self._rtp.recv_into(buf)
            else:
                n, addr = self._rtp.recvfrom_into(buf)
        except BlockingIOError:
            return
        except OSError:  # an ICMP error reported on the connected socket, and the like
            self._events["socket_errors"] += 1
            return
        if addr is not None and addr[0] != self._source_host:
            self._dropped["stranger"] += 1
            return
        first = buf[0]
        if n < 12 or n > MAX_PACKET or first & 0xC0 != 0x80:
            self._drop_bad(n)
            return
        payload_type = buf[1] & 0x7F
        event = payload_type != self._pt
        if event and payload_type != self._dtmf_pt:
            self._dropped["rtcp_on_rtp_port" if 192 <= buf[1] <= 223 else "payload_type"] += 1
            return
        start, end = (12, n) if not first & 0x3F else self._unusual_header(n)
        if start > end or (event and end - start != EVENT_SIZE):
            self._dropped["malformed"] += 1
            return
        sequence, timestamp, ssrc = _FIELDS.unpack_from(buf, 2)
        now = time.monotonic()
        if addr is not None:
            self._latch(addr)
        self._last_rx = now
        self.packets_in += 1
        self.bytes_in += n
        if not self._reception.packet(ssrc, sequence, timestamp, now * RATE, not event) and not event:
            return  # duplicate audio: neither heard nor forwarded twice (a repeated event end is on purpose)
        if event:
            self._event(bytes(buf[start:end]), sequence, timestamp, ssrc, buf[1])
        elif self._codec is not None:
            if self._recording is not None:
                self._recording.received(self._codec, bytes(buf[start:end]), ssrc, timestamp, now)
            if self._listener is not None:
                self._listener(self._codec, bytes(buf[start:end]))
        relay = self._relay
        if relay is None:
            return
        target = relay.target
        to = target._send_to
        if to is None or (target._digits.sending and not event):
            return
        length = relay.rewrite(buf, start, end, sequence, timestamp, ssrc, event, now)
        if length:
            target._send(self._view[:length], to)
            if target._recording is not None and not event:
                target._record_forwarded(length, now)

    def _drop_bad(self, n: int) -> None:
        if n < 12:
            self._dropped["short"] += 1
        elif n > MAX_PACKET:
            self._dropped["oversized"] += 1
        else:
            self._dropped["not_rtp"] += 1

    def _unusual_header(self, n: int) -> tuple[int, int]:
        """A packet with CSRCs, an extension or padding: its payload moved to offset 12; (1, 0) if malformed."""
        buf = self._buffer
        try:
            payload = RtpPacket.parse(bytes(buf[:n])).payload
        except RtpError:
            return 1, 0
        buf[12 : 12 + len(payload)] = payload
        return 12, 12 + len(payload)

    def _event(self, payload: bytes, sequence: int, timestamp: int, ssrc: int, second: int) -> None:
        packet = RtpPacket(self._dtmf_pt, sequence, timestamp, ssrc, payload, bool(second & 0x80))
        digit = self._dtmf.receive(packet)
        if digit is not None:
            self._events["digits_in"] += 1
            self._notify(self.on_digit, digit.digit)

    def _rtcp_readable(self) -> None:
        for _ in range(DRAIN_LIMIT):
            try:
                data, addr = self._rtcp.recvfrom(MAX_PACKET + 1)
            except BlockingIOError:
                return
            except OSError:
                self._events["socket_errors"] += 1
                return
            if addr[0] != self._source_host:
                self._dropped["rtcp_stranger"] += 1
                continue
            try:
                parse_rtcp(data)
            except RtpError:
                self._dropped["rtcp_malformed"] += 1
                continue
            self._events["rtcp_in"] += 1

    # --- sending ---------------------------------------------------------------------------------------------

    def _send(self, packet: bytes | memoryview, to: tuple[str | int, ...]) -> None:
        try:
            if self._latched is None:
                self._rtp.sendto(packet, to)
            else:
                self._rtp.send(packet)  # connected: no address to convert, the route is cached
        except OSError:  # a full send buffer or an unreachable network: real-time media is not queued
            self._events["send_errors"] += 1
            return
        self.packets_out += 1
        self.bytes_out += len(packet)

    def _record_forwarded(self, length: int, now: float) -> None:
        recording, codec = self._recording, self._codec
        assert recording is not None and codec is not None
        buf = self._buffer
        _sequence, timestamp, ssrc = _FIELDS.unpack_from(buf, 2)
        recording.sent(codec, bytes(buf[12:length]), ssrc, timestamp, now)

    # --- state -----------------------------------------------------------------------------------------------

    def _link(self) -> None:
        """(Re)build the relay that carries this leg's incoming packets to its bridge, once both know codecs."""
        other = self._bridge
        if other is None or self._codec is None or other._codec is None:
            self._relay = None
            return
        dtmf = None if other._dtmf_pt == _NONE else other._dtmf_pt
        self._relay = Relay(other, other._out, other._pt, dtmf, transcoder(self._codec, other._codec))

    def _reschedule(self) -> None:
        """Be on the media clock exactly when there is something to send on it."""
        wanted = not self._closed and self._send_to is not None and (self._bridge is None or self._digits.active)
        if wanted and not self._scheduled:
            self._scheduled = self._marker = True
            self._engine.schedule(self)
        elif not wanted and self._scheduled:
            self._scheduled = False
            self._engine.unschedule(self)

    def _latch(self, source: tuple[str | int, ...]) -> None:
        """Send where the peer sends from, and connect the socket there: from now on the kernel drops datagrams
        from anywhere else before they cost a system call, and sending skips the address lookup."""
        try:
            self._rtp.connect(source)
        except OSError:
            self._events["socket_errors"] += 1
            return
        self._latched = source
        self._aim()

    def _aim(self) -> None:
        """Where packets go: the latched source, else the negotiated address; nowhere when we may not send."""
        self._send_to = (self._latched or self._remote) if self._sends else None

    def _unlatch(self) -> None:
        """Forget the latched source: a fresh socket on the same port (a UDP socket cannot be unconnected
        portably), accepting any port of the peer's host again. MediaError, and the leg closed, if the port was
        taken in between."""
        if self._latched is None:
            return
        self._latched = None
        loop = self._engine.loop
        loop.remove_reader(self._rtp.fileno())
        self._rtp.close()
        try:
            self._rtp = udp_socket(self._local[0], self.port)
        except OSError as error:
            self._rtp = socket.socket(type=socket.SOCK_DGRAM)  # closed below, with the rest of the leg
            loop.add_reader(self._rtp.fileno(), self._rtp_readable)
            self.close()
            raise MediaError(f"RTP port {self.port} was lost while renegotiating: {error}") from error
        loop.add_reader(self._rtp.fileno(), self._rtp_readable)

    def _recording_stopped(self, recording: Recording) -> None:
        if self._recording is recording:
            self._recording = None

    def _check_open(self) -> None:
        if self._closed:
            raise MediaError("the media leg is closed")

    def _notify(self, callback: Callable[..., None] | None, *args: str) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:
            self._events["callback_errors"] += 1
            log.exception("media leg %s: callback %r failed", self._local, callback)
