"""A media leg on real UDP sockets on the loopback: playback, comfort silence, DTMF both ways, the source rule,
the media timeout, garbage on the wire, port exhaustion, recording, and the engine under uvloop."""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
import uvloop

from infolinia.voice.media import Audio, MediaEngine, MediaError, MediaLeg
from infolinia.voice.rtp import DtmfReceiver, RtpPacket, ulaw_encode, ulaw_to_alaw
from tests.audio import dominant_frequency
from tests.pcap import sip_tester_capture, udp_datagrams
from tests.rtppeer import Peer, eventually

DTMF_CAPTURES = {f"dtmf_2833_{d}.pcap": d for d in "0123456789"} | {
    "dtmf_2833_star.pcap": "*",
    "dtmf_2833_pound.pcap": "#",
}
PROMPT = Audio.concat(Audio.tone(600, 130), Audio.tone(1200, 90))  # 11 frames, the last padded


def prompt_end(payloads: list[bytes], frames: list[bytes], skipped: int) -> int:
    """Check that ``payloads`` hold the prompt's ``frames`` in order, and return the index just after its last.

    After a stall of the loop (a loaded machine) the clock skips the ticks that were too late, by design, and the
    engine counts them (``skipped``): the prompt may then begin up to that many frames in. With none skipped,
    every frame must be there."""
    end = len(payloads) - payloads[::-1].index(frames[-1])
    starts = range(min(skipped, len(frames) - 1) + 1)
    assert any(payloads[end - len(frames) + m : end] == frames[m:] for m in starts), f"{skipped} ticks skipped"
    return end


def port_range(size: int = 40) -> tuple[int, int]:
    """A random even range below the kernel's ephemeral ports (shared machine: the pool skips busy ports)."""
    low = random.randrange(20000, 30000, 2)
    return low, low + size - 1


@pytest.fixture
async def engine() -> AsyncIterator[MediaEngine]:
    engine = MediaEngine("127.0.0.1", port_range(), media_timeout_s=0.4)
    await engine.start()
    yield engine
    await engine.close()


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    p = Peer()
    yield p
    p.close()


def consecutive(packets: list[RtpPacket], step: int = 160) -> bool:
    return all(
        (b.sequence - a.sequence) & 0xFFFF == 1 and (b.timestamp - a.timestamp) & 0xFFFFFFFF == step
        for a, b in itertools.pairwise(packets)
    )


def audio_packets(peer: Peer, pt: int = 0) -> list[RtpPacket]:
    return peer.packets(pt)


# --- playback ---------------------------------------------------------------------------------------------------


async def test_playback_arrives_as_one_stream_of_the_encoded_prompt(engine: MediaEngine, peer: Peer) -> None:
    leg = engine.open_leg()
    assert leg.local_address[0] == "127.0.0.1" and leg.local_address[1] % 2 == 0
    done: list[int] = []
    leg.connect(peer.address, 0, 101)
    await peer.wait_for(3)  # comfort silence while idle
    assert all(p.payload == b"\xff" * 160 for p in peer.packets())
    leg.play(PROMPT, on_done=lambda: done.append(1))
    await eventually(lambda: done, what="on_done")
    await peer.wait_for(len(peer.packets()) + 3)  # and silence again after it
    packets = peer.packets()
    assert consecutive(packets)
    assert len({p.ssrc for p in packets}) == 1 and packets[0].marker
    payloads = [p.payload for p in packets]
    end = prompt_end(payloads, list(PROMPT.frames("PCMU")), engine.stats()["packets_skipped"])
    assert payloads[end] == b"\xff" * 160
    assert done == [1]
    assert leg.stats().packets_out == len(packets)


async def test_a_looping_prompt_repeats_until_stopped_and_on_done_never_fires(engine: MediaEngine, peer: Peer) -> None:
    leg = engine.open_leg()
    done: list[int] = []
    leg.connect(peer.address, 8, None)
    leg.play([Audio.tone(700, 40), Audio.tone(300, 20)], loop=True, on_done=lambda: done.append(1))
    frames = [*Audio.tone(700, 40).frames("PCMA"), *Audio.tone(300, 20).frames("PCMA")]
    await peer.wait_for(10, payload_type=8)
    payloads = [p.payload for p in peer.packets(8)]
    start = payloads.index(frames[0])
    assert payloads[start : start + 9] == frames * 3
    leg.stop_playback()
    assert not leg.playing
    count = len(peer.packets())
    await peer.wait_for(count + 3)
    assert peer.packets()[-1].payload == b"\xd5" * 160  # PCMA silence
    assert done == []


async def test_play_replaces_and_a_replaced_prompt_does_not_report_done(engine: MediaEngine, peer: Peer) -> None:
    leg = engine.open_leg()
    first: list[int] = []
    second: list[int] = []
    leg.connect(peer.address, 0, None)
    leg.play(Audio.tone(500, 10_000), on_done=lambda: first.append(1))
    await peer.wait_for(2)
    leg.play(Audio.tone(900, 40), on_done=lambda: second.append(1))
    await eventually(lambda: second, what="the second prompt's on_done")
    assert first == []


async def test_nothing_is_sent_before_connect_or_without_an_address(engine: MediaEngine, peer: Peer) -> None:
    leg = engine.open_leg()
    leg.play(PROMPT)
    leg.connect(None, 0, None)
    other = engine.open_leg()
    other.connect(peer.address, 0, None)  # a witness that ticks happen
    await peer.wait_for(5)
    assert leg.stats().packets_out == 0
    assert {p.ssrc for p in peer.packets()} == {peer.packets()[0].ssrc}


async def test_a_dynamic_payload_type_names_its_codec(engine: MediaEngine, peer: Peer) -> None:
    leg = engine.open_leg()
    leg.connect(peer.address, 97, 101, codec="PCMA")  # a=rtpmap:97 PCMA/8000
    leg.play(PROMPT)
    await eventually(lambda: PROMPT.frames("PCMA")[0] in [p.payload for p in peer.packets(97)], what="PCMA as 97")
    peer.send(rtp(1, pt=97), leg.local_address)
    await eventually(lambda: leg.stats().packets_in == 1, what="97 accepted")
    with pytest.raises(MediaError):
        leg.connect(peer.address, 97, None)  # no codec for a dynamic type
    with pytest.raises(MediaError):
        leg.connect(peer.address, 0, None, direction="both")  # type: ignore[arg-type]


async def test_recvonly_and_inactive_send_nothing(engine: MediaEngine, peer: Peer) -> None:
    witness = engine.open_leg()
    witness.connect(peer.address, 8, None)  # shows that ticks go on
    held = engine.open_leg()
    held.connect(peer.address, 0, 101, direction="recvonly")  # the peer holds us: it sends music, we listen
    held.play(PROMPT)
    held.send_digits("1")
    peer.send(rtp(1), held.local_address)
    await eventually(lambda: held.stats().packets_in == 1, what="the held leg hears")
    await peer.wait_for(10, payload_type=8)
    assert peer.packets(0) == [] and peer.packets(101) == [] and held.stats().packets_out == 0
    held.connect(peer.address, 0, 101, direction="inactive")
    held.connect(peer.address, 0, 101)  # taken off hold: what was queued goes out
    await peer.wait_for(3, payload_type=101)


# --- DTMF -------------------------------------------------------------------------------------------------------


async def test_dtmf_captures_reach_on_digit_once_per_press(engine: MediaEngine, peer: Peer) -> None:
    leg = engine.open_leg()
    heard: list[str] = []
    leg.on_digit = heard.append
    leg.connect(peer.address, 8, 101)
    expected = []
    for name, digit in sorted(DTMF_CAPTURES.items()):
        for datagram in udp_datagrams(sip_tester_capture(name)):  # every packet of the press, end packets three times
            peer.send(datagram.payload, leg.local_address)
        expected.append(digit)
    await eventually(lambda: len(heard) == len(expected), what="every digit")
    await eventually(lambda: leg.stats().packets_in == 10 * len(expected), what="every packet")
    assert heard == expected
    assert leg.stats().digits_in == len(expected)


async def test_sent_digits_are_rfc4733_events_the_receiver_decodes(engine: MediaEngine, peer: Peer) -> None:
    leg = engine.open_leg()
    leg.connect(peer.address, 0, 96)
    leg.play(Audio.tone(440, 5000))
    leg.send_digits("19*#")
    events = await peer.wait_for(4 * 7, payload_type=96)  # 7 packets a press
    receiver = DtmfReceiver()
    assert [d.digit for p in events if (d := receiver.receive(p)) is not None] == list("19*#")
    with pytest.raises(MediaError):
        leg.send_digits("5x")
    silent = engine.open_leg()
    silent.connect(peer.address, 0, None)
    with pytest.raises(MediaError):
        silent.send_digits("1")  # no telephone-event negotiated


async def test_sent_digits_share_the_audio_stream(engine: MediaEngine, peer: Peer) -> None:
    leg = engine.open_leg()
    leg.connect(peer.address, 0, 96)
    await peer.wait_for(2)
    leg.send_digits("7")
    await eventually(lambda: len(peer.packets(96)) == 7, what="one press")
    await peer.wait_for(len(peer.packets()) + 2)
    packets = peer.packets()
    assert {p.ssrc for p in packets} == {packets[0].ssrc}
    assert all((b.sequence - a.sequence) & 0xFFFF == 1 for a, b in itertools.pairwise(packets))
    events = peer.packets(96)
    assert [p.marker for p in events] == [True] + [False] * 6
    assert len({p.timestamp for p in events}) == 1


# --- the source rule --------------------------------------------------------------------------------------------


def rtp(sequence: int, payload: bytes = b"\x00" * 160, pt: int = 0, ssrc: int = 77) -> bytes:
    return bytes(RtpPacket(pt, sequence & 0xFFFF, 160 * sequence, ssrc, payload))


async def test_the_leg_latches_to_where_packets_come_from(engine: MediaEngine, peer: Peer) -> None:
    leg = engine.open_leg()
    announced = Peer()  # what the SDP said; the real source is another port (NAT)
    try:
        leg.connect(announced.address, 0, None)
        await announced.wait_for(2)
        peer.send(rtp(1), leg.local_address)
        await eventually(lambda: leg.remote_address == peer.address, what="latching")
        await peer.wait_for(3)
        count = len(announced.arrivals)
        await peer.wait_for(len(peer.arrivals) + 5)
        assert len(announced.arrivals) <= count + 1  # at most one in flight when it latched
        assert all(a.source == leg.local_address for a in peer.arrivals)  # symmetric: from the RTP port
    finally:
        announced.close()


async def test_strangers_cannot_inject_or_move_the_latch(engine: MediaEngine, peer: Peer) -> None:
    leg = engine.open_leg()
    stranger_host = Peer("127.0.0.2")
    same_host_other_port = Peer()
    try:
        leg.connect(peer.address, 0, None)
        stranger_host.send(rtp(1), leg.local_address)  # before latching: wrong host
        await eventually(lambda: leg.stats().bad_packets == 1, what="the stranger dropped")
        peer.send(rtp(2), leg.local_address)
        await eventually(lambda: leg.stats().packets_in == 1, what="the peer's packet")
        # after latching the socket is connected: the kernel drops the others, uncounted
        same_host_other_port.send(rtp(3, b"\x01" * 160), leg.local_address)  # wrong port
        stranger_host.send(rtp(4, b"\x02" * 160), leg.local_address)
        peer.send(rtp(5), leg.local_address)  # sent after them on the loopback: read after them too
        await eventually(lambda: leg.stats().packets_in == 2, what="the peer's second packet")
        assert leg.stats().bad_packets == 1 and engine.stats()["dropped_stranger"] == 1
        assert leg.remote_address == peer.address
        assert leg.stats().lost == 2  # sequence numbers 3 and 4 never arrived
    finally:
        stranger_host.close()
        same_host_other_port.close()


async def test_a_nat_source_host_is_accepted_and_a_new_peer_relearns(engine: MediaEngine, peer: Peer) -> None:
    leg = engine.open_leg()
    behind_nat = Peer("127.0.0.3")
    try:
        leg.connect(("192.0.2.10", 4000), 0, None, source_host="127.0.0.3")  # SDP: a private address
        behind_nat.send(rtp(1), leg.local_address)
        await eventually(lambda: leg.remote_address == behind_nat.address, what="latching to the NAT address")
        leg.connect(peer.address, 0, None)  # re-INVITE to another peer: learn anew
        assert leg.remote_address == peer.address
        behind_nat.send(rtp(2), leg.local_address)
        peer.send(rtp(3), leg.local_address)
        await eventually(lambda: leg.stats().packets_in == 2 and leg.stats().bad_packets == 1, what="the new peer")
        with pytest.raises(MediaError):
            leg.connect(("sip.example.com", 4000), 0, None)
        with pytest.raises(MediaError):
            leg.connect(("::1", 4000), 0, None)
        with pytest.raises(MediaError):
            leg.connect(peer.address, 18, None)  # G.729: not ours
    finally:
        behind_nat.close()


# --- timeout, garbage -------------------------------------------------------------------------------------------


async def test_media_timeout_fires_for_a_silent_peer_once_per_silence(engine: MediaEngine, peer: Peer) -> None:
    leg = engine.open_leg()
    fired: list[float] = []
    leg.on_timeout = lambda: fired.append(engine.now())
    connected = engine.now()
    leg.connect(peer.address, 0, None)
    await eventually(lambda: fired, what="the timeout")
    assert fired[0] - connected >= engine.media_timeout_s
    peer.send(rtp(1), leg.local_address)
    await eventually(lambda: len(fired) == 2, what="a second timeout after new silence")
    quiet, witness = engine.open_leg(), engine.open_leg()
    quiet.on_timeout = lambda: fired.append(-1.0)
    witness.on_timeout = lambda: fired.append(-2.0)
    quiet.connect(peer.address, 0, None, direction="sendonly")  # the peer was asked not to send
    witness.connect(peer.address, 0, None)
    await eventually(lambda: -2.0 in fired, what="the witness's timeout")
    assert len(fired) == 3  # the first leg stays silent without new packets; the quiet leg never times out


async def test_garbage_is_counted_never_raised_and_the_leg_still_works(engine: MediaEngine, peer: Peer) -> None:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    leg = engine.open_leg()
    heard: list[str] = []
    leg.on_digit = heard.append
    try:
        leg.connect(peer.address, 0, 101)
        rng = random.Random(2024)
        valid = RtpPacket(0, 1, 160, 5, b"\xff" * 160)
        sent = 0
        for i in range(3000):
            kind = i % 6
            if kind == 0:
                data = rng.randbytes(rng.randrange(0, 300))
            elif kind == 1:  # RTP headers with random flags, CSRC counts, extension and padding bits
                data = bytes([0x80 | rng.randrange(64), rng.choice([0, 101, 128, 229])]) + rng.randbytes(
                    rng.randrange(10, 200)
                )
            elif kind == 2:  # a valid packet cut short
                data = bytes(valid)[: rng.randrange(0, 12)]
            elif kind == 3:  # RTCP on the RTP port, and a wrong payload type
                data = bytes([0x80, rng.choice([200, 201, 8, 13, 18])]) + bytes(rng.randrange(6, 100))
            elif kind == 4:  # a telephone event of the wrong size
                data = bytes(RtpPacket(101, i, 0, 5, rng.randbytes(rng.choice([0, 3, 5, 8]))))
            else:
                data = bytes(1501 + rng.randrange(100))  # oversized
            peer.send(data, leg.local_address)
            peer.send(rng.randbytes(rng.randrange(0, 80)), (leg.local_address[0], leg.local_address[1] + 1))
            sent += 2
            if i % 200 == 0:
                await asyncio.sleep(0)  # let the leg read: the socket buffer is large, but not unbounded
        await eventually(lambda: leg.stats().bad_packets + leg.stats().packets_in + leg.stats().rtcp_in >= sent)
        stats = engine.stats()
        assert errors == []
        assert stats["callback_errors"] == stats["tick_errors"] == 0
        assert stats["dropped_oversized"] == 500 and stats["dropped_short"] >= 500
        assert stats["dropped_rtcp_on_rtp_port"] > 0 and stats["dropped_payload_type"] > 0
        assert stats["dropped_malformed"] > 0 and stats["dropped_rtcp_malformed"] > 0
        # still works: digits are heard, audio is played
        for datagram in udp_datagrams(sip_tester_capture("dtmf_2833_5.pcap")):
            peer.send(datagram.payload, leg.local_address)
        await eventually(lambda: "5" in heard, what="a digit after the garbage")
        peer.clear()
        leg.play(PROMPT)
        await eventually(lambda: PROMPT.frames("PCMU")[3] in [p.payload for p in peer.packets(0)], what="playback")
    finally:
        loop.set_exception_handler(previous)


async def test_a_failing_callback_is_logged_and_the_media_goes_on(
    engine: MediaEngine, peer: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    leg = engine.open_leg()

    def broken() -> None:
        raise RuntimeError("call control bug")

    leg.connect(peer.address, 0, None)
    leg.play(Audio.tone(500, 20), on_done=broken)
    await eventually(lambda: engine.stats()["callback_errors"] == 1, what="the failure counted")
    count = len(peer.packets())
    await peer.wait_for(count + 3)
    assert "call control bug" in caplog.text


# --- ports, lifecycle -------------------------------------------------------------------------------------------


def free_even_range(pairs: int) -> tuple[int, int]:
    """A range whose ports all bind right now."""
    import socket

    for _ in range(100):
        low = random.randrange(20000, 30000, 2)
        socks = []
        try:
            for port in range(low, low + 2 * pairs):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return low, low + 2 * pairs - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free port range")


async def test_port_exhaustion_is_a_media_error_and_closing_gives_ports_back() -> None:
    low, high = free_even_range(3)
    engine = MediaEngine("127.0.0.1", (low, high))
    with pytest.raises(MediaError):
        engine.open_leg()  # not started
    await engine.start()
    try:
        legs = [engine.open_leg() for _ in range(3)]
        assert sorted(leg.local_address[1] for leg in legs) == [low, low + 2, low + 4]
        with pytest.raises(MediaError, match="no free RTP port"):
            engine.open_leg()
        assert engine.stats()["legs_open"] == 3
        legs[1].close()
        legs[1].close()  # idempotent
        with pytest.raises(MediaError):
            legs[1].play(PROMPT)
        again = engine.open_leg()
        assert again.local_address[1] == low + 2
        assert engine.stats()["legs_open"] == 3
    finally:
        await engine.close()
    assert engine.stats()["legs_open"] == 0
    with pytest.raises(MediaError, match="closed"):
        engine.open_leg()
    for port in range(low, high + 1):  # every socket is closed
        import socket

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", port))


# --- recording --------------------------------------------------------------------------------------------------


async def test_recording_has_the_caller_left_and_the_prompt_right(
    engine: MediaEngine, peer: Peer, tmp_path: Path
) -> None:
    leg = engine.open_leg()
    leg.connect(peer.address, 0, None)
    leg.play(Audio.tone(1000, 10_000))
    recording = leg.record(tmp_path / "call.wav")
    caller = ulaw_encode(Audio.tone(450, 1000).samples)
    for k in range(50):  # one second of the caller, paced like a phone
        peer.send(rtp(k, caller[160 * k : 160 * (k + 1)]), leg.local_address)
        await asyncio.sleep(0.02)
    await eventually(lambda: recording.duration_s >= 1.2, what="1.2 s recorded")
    recording.stop()
    duration = recording.duration_s
    with wave.open(str(recording.path), "rb") as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 8000, 2)
        assert w.getnframes() == round(duration * 8000)
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    left, right = samples[:, 0], samples[:, 1]
    heard = np.flatnonzero(left)
    caller_span = left[heard[0] : heard[-1] + 1]
    assert 7600 <= len(caller_span) <= 8000  # the caller's second (a packet may fall on the start)
    assert dominant_frequency(caller_span) == pytest.approx(450, abs=2)
    assert dominant_frequency(right[1000:8000]) == pytest.approx(1000, abs=3)
    assert duration >= 1.2


# --- under uvloop -----------------------------------------------------------------------------------------------


def run_in_uvloop(body: object) -> None:
    """Run a coroutine function on a uvloop loop of its own thread (the test session's loop is asyncio's)."""
    failure: list[BaseException] = []

    def main() -> None:
        try:
            uvloop.run(body())  # type: ignore[operator]
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    if failure:
        raise failure[0]


def test_the_engine_plays_and_bridges_under_uvloop() -> None:
    async def body() -> None:
        engine = MediaEngine("127.0.0.1", port_range())
        await engine.start()
        a, b = Peer(), Peer()
        try:
            legs: list[MediaLeg] = [engine.open_leg(), engine.open_leg()]
            done: list[int] = []
            legs[0].connect(a.address, 0, None)
            legs[0].play(PROMPT, on_done=lambda: done.append(1))
            await eventually(lambda: done, what="on_done under uvloop")
            # every packet the leg sent so far, read: the prompt's last frames are alike, so seeing one of them
            # does not mean the last one is in
            sent = legs[0].stats().packets_out
            await eventually(lambda: len(a.packets(0)) >= sent, what="the prompt's packets")
            payloads = [p.payload for p in a.packets(0)]
            prompt_end(payloads, list(PROMPT.frames("PCMU")), engine.stats()["packets_skipped"])
            legs[1].connect(b.address, 8, None)
            legs[0].bridge(legs[1])
            a.send(rtp(1, b"\x00" * 160), legs[0].local_address)
            transcoded = ulaw_to_alaw(b"\x00" * 160)
            await eventually(lambda: transcoded in [p.payload for p in b.packets(8)], what="a transcoded packet")
        finally:
            a.close()
            b.close()
            await engine.close()

    run_in_uvloop(body)


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    before = threading.active_count()
    yield
    assert threading.active_count() <= before
