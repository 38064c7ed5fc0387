"""Two legs bridged on real UDP sockets: tones cross in both directions (also PCMU <-> PCMA), headers are the
receiving side's stream, digits follow their payload type mapping, and unbridging brings comfort silence back."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator

import numpy as np
import pytest

from infolinia.voice.media import Audio, MediaEngine, MediaError, MediaLeg
from infolinia.voice.rtp import (
    DtmfReceiver,
    alaw_decode_array,
    alaw_encode,
    ulaw_decode_array,
    ulaw_encode,
    ulaw_to_alaw,
)
from tests.audio import dominant_frequency, tone
from tests.pcap import sip_tester_capture, udp_datagrams
from tests.rtppeer import Peer, eventually

ENCODE = {0: ulaw_encode, 8: alaw_encode}
DECODE = {0: ulaw_decode_array, 8: alaw_decode_array}


class Call:
    """A caller peer and an agent peer, each on a leg of the engine, the legs bridged."""

    def __init__(self, engine: MediaEngine, caller_pt: int, agent_pt: int, agent_dtmf: int | None = 96) -> None:
        self.caller, self.agent = Peer(), Peer()
        self.caller_leg, self.agent_leg = engine.open_leg(), engine.open_leg()
        self.caller_leg.connect(self.caller.address, caller_pt, 101)
        self.agent_leg.connect(self.agent.address, agent_pt, agent_dtmf)
        self.caller_leg.bridge(self.agent_leg)
        self.pt = {"caller": caller_pt, "agent": agent_pt}

    async def talk(self, who: str, freq: float, seconds: float, ssrc: int = 1234) -> None:
        """`who` sends a tone as 20 ms packets, paced like a phone."""
        peer, leg = (self.caller, self.caller_leg) if who == "caller" else (self.agent, self.agent_leg)
        pt = self.pt[who]
        payload = ENCODE[pt](tone(freq, seconds))
        for k in range(len(payload) // 160):
            peer.send_rtp(leg.local_address, pt, 1000 + k, 5000 + 160 * k, ssrc, payload[160 * k : 160 * (k + 1)])
            await asyncio.sleep(0.02)

    def close(self) -> None:
        self.caller.close()
        self.agent.close()


@pytest.fixture
async def engine() -> AsyncIterator[MediaEngine]:
    low = random.randrange(20000, 30000, 2)
    engine = MediaEngine("127.0.0.1", (low, low + 39))
    await engine.start()
    yield engine
    await engine.close()


@pytest.fixture
async def peers() -> AsyncIterator[tuple[Peer, Peer]]:
    a, b = Peer(), Peer()
    yield a, b
    a.close()
    b.close()


def open_legs(engine: MediaEngine, peers: tuple[Peer, Peer], pts: tuple[int, int]) -> tuple[MediaLeg, MediaLeg]:
    """Two legs, each connected to one of the peers with its payload type (no telephone-event)."""
    first, second = engine.open_leg(), engine.open_leg()
    first.connect(peers[0].address, pts[0], None)
    second.connect(peers[1].address, pts[1], None)
    return first, second


def heard(peer: Peer, pt: int) -> np.ndarray:
    return np.concatenate([DECODE[pt](p.payload) for p in peer.packets(pt)] or [np.zeros(0, np.int16)])


@pytest.mark.parametrize(("caller_pt", "agent_pt"), [(0, 0), (0, 8), (8, 0), (8, 8)])
async def test_a_tone_crosses_the_bridge_both_ways(engine: MediaEngine, caller_pt: int, agent_pt: int) -> None:
    call = Call(engine, caller_pt, agent_pt)
    try:
        await asyncio.gather(call.talk("caller", 697, 0.5), call.talk("agent", 1633, 0.5, ssrc=99))
        await eventually(lambda: len(call.agent.packets(agent_pt)) == 25 and len(call.caller.packets(caller_pt)) == 25)
        assert dominant_frequency(heard(call.agent, agent_pt)) == pytest.approx(697, abs=2)
        assert dominant_frequency(heard(call.caller, caller_pt)) == pytest.approx(1633, abs=2)
    finally:
        call.close()


async def test_forwarded_packets_carry_the_receiving_legs_stream(engine: MediaEngine, peers: tuple[Peer, Peer]) -> None:
    caller, agent = peers
    caller_leg, agent_leg = open_legs(engine, peers, (0, 8))
    own = (await agent.wait_for(2, payload_type=8))[-1]  # the agent leg's own stream: comfort silence
    caller_leg.bridge(agent_leg)
    for k in (0, 1, 3, 2):  # one late
        caller.send_rtp(caller_leg.local_address, 0, 50 + k, 7000 + 160 * k, 4321, bytes([k]) * 160, k == 0)
    await eventually(lambda: caller_leg.stats().packets_in == 4, what="4 packets in")
    await eventually(lambda: agent.packets(8)[-1].payload == ulaw_to_alaw(bytes([2]) * 160), what="forwarded")
    forwarded = agent.packets(8)[-4:]
    assert {p.ssrc for p in forwarded} == {own.ssrc}
    first = forwarded[0]
    assert first.marker and (first.sequence - own.sequence) & 0xFFFF >= 1
    assert [(p.sequence - first.sequence) & 0xFFFF for p in forwarded] == [0, 1, 3, 2]
    assert [(p.timestamp - first.timestamp) & 0xFFFFFFFF for p in forwarded] == [0, 160, 480, 320]
    assert (first.timestamp - own.timestamp) & 0xFFFFFFFF < 8000 * 5  # the same line, no wild jump
    assert [p.payload for p in forwarded] == [ulaw_to_alaw(bytes([k]) * 160) for k in (0, 1, 3, 2)]
    assert {a.source for a in agent.arrivals} == {agent_leg.local_address}


async def test_digits_cross_with_the_payload_type_mapped_or_are_dropped(engine: MediaEngine) -> None:
    call = Call(engine, 8, 0, agent_dtmf=96)
    other = Call(engine, 8, 0, agent_dtmf=None)
    heard_digits: list[str] = []
    call.caller_leg.on_digit = heard_digits.append
    try:
        for datagram in udp_datagrams(sip_tester_capture("dtmf_2833_4.pcap")):
            call.caller.send(datagram.payload, call.caller_leg.local_address)
            other.caller.send(datagram.payload, other.caller_leg.local_address)
        events = await call.agent.wait_for(10, payload_type=96)
        receiver = DtmfReceiver()
        assert [d.digit for p in events if (d := receiver.receive(p)) is not None] == ["4"]
        assert {p.ssrc for p in events} == {call.agent.packets()[0].ssrc}
        assert heard_digits == ["4"]  # the leg still reports what it forwards
        other.caller.send_rtp(other.caller_leg.local_address, 8, 1, 160, 5, b"\xd5" * 160)  # audio after the press
        await other.agent.wait_for(1, payload_type=0)
        assert other.caller_leg.stats().packets_in == 11
        assert {p.payload_type for p in other.agent.packets()} == {0}  # the press was not forwarded
    finally:
        call.close()
        other.close()


async def test_bridging_stops_playback_and_unbridging_brings_silence_back(
    engine: MediaEngine, peers: tuple[Peer, Peer]
) -> None:
    a, b = peers
    leg_a, leg_b = open_legs(engine, peers, (0, 0))
    done: list[int] = []
    leg_a.play(Audio.tone(400, 10_000), on_done=lambda: done.append(1))
    await a.wait_for(3)
    leg_a.bridge(leg_b)
    assert not leg_a.playing and leg_a.bridged_to is leg_b and leg_b.bridged_to is leg_a
    with pytest.raises(MediaError):
        leg_a.play(Audio.tone(400, 100))
    with pytest.raises(MediaError):
        leg_a.bridge(leg_a)
    sent_a, sent_b = leg_a.stats().packets_out, leg_b.stats().packets_out
    b.send_rtp(leg_b.local_address, 0, 1, 160, 9, b"\x11" * 160)
    await eventually(lambda: leg_a.stats().packets_out == sent_a + 1, what="the forwarded packet")
    assert leg_b.stats().packets_out == sent_b  # a bridged leg sends nothing of its own
    leg_b.unbridge()
    assert leg_a.bridged_to is None
    count = len(a.packets())
    await a.wait_for(count + 3)
    assert a.packets()[-1].payload == b"\xff" * 160
    assert done == []
    assert all((y.sequence - x.sequence) & 0xFFFF == 1 for x, y in itertools.pairwise(a.packets()))


async def test_a_leg_bridged_elsewhere_is_moved_and_closing_unbridges(engine: MediaEngine) -> None:
    legs: list[MediaLeg] = [engine.open_leg() for _ in range(3)]
    legs[0].bridge(legs[1])
    legs[2].bridge(legs[1])
    assert legs[0].bridged_to is None and legs[1].bridged_to is legs[2]
    legs[2].close()
    assert legs[1].bridged_to is None
    with pytest.raises(MediaError):
        legs[0].bridge(legs[2])
    assert engine.stats()["legs_bridged"] == 0
