"""What a leg plays and the digits it sends, tick by tick, without sockets."""

from __future__ import annotations

import pytest

from infolinia.voice.media import Audio, MediaError
from infolinia.voice.media.digits import GAP_TICKS, DigitSender
from infolinia.voice.media.playback import Playback
from infolinia.voice.rtp import DtmfReceiver

A = Audio.tone(500, 60)  # 3 frames
B = Audio.tone(900, 30)  # 2 frames, the second padded


def drain(playback: Playback, limit: int = 100) -> list[bytes]:
    out = []
    while not playback.finished and len(out) < limit:
        frame = playback.next()
        assert frame is not None
        out.append(frame)
    return out


def test_parts_play_in_order_and_finish_with_the_last_frame() -> None:
    playback = Playback([A, B], "PCMU")
    frames = drain(playback)
    assert frames == [*A.frames("PCMU"), *B.frames("PCMU")]
    assert playback.finished
    assert playback.next() is None


def test_a_loop_never_finishes_and_wraps_around() -> None:
    playback = Playback([A], "PCMA", loop=True)
    frames = [playback.next() for _ in range(7)]
    assert frames == [*A.frames("PCMA")] * 2 + [A.frames("PCMA")[0]]
    assert not playback.finished


def test_skipped_ticks_pass_over_their_frames() -> None:
    playback = Playback([A, B], "PCMU")
    playback.next()
    assert playback.next(skip=2) == B.frames("PCMU")[0]


def test_a_codec_change_keeps_the_place() -> None:
    playback = Playback([A], "PCMU")
    playback.next()
    playback.use("PCMA")
    assert playback.next() == A.frames("PCMA")[1]


def test_empty_audio_finishes_at_once_unless_looping() -> None:
    once = Playback([Audio.silence(0)], "PCMU")
    assert once.next() is None and once.finished
    looping = Playback([], "PCMU", loop=True)
    assert looping.next() is None and not looping.finished


def test_digits_go_out_one_frame_per_tick_with_a_pause_between_presses() -> None:
    sender = DigitSender()
    sender.add("1#")
    receiver = DtmfReceiver()
    heard, ticks = [], []
    for tick in range(40):
        frame = sender.tick(timestamp=1000 + 160 * tick)
        ticks.append(frame is not None)
        if frame is not None:
            digit = receiver.receive(frame.packet(101, tick, 5))
            if digit is not None:
                heard.append((digit.digit, digit.timestamp))
    assert heard == [("1", 1000), ("#", 1000 + 160 * (7 + GAP_TICKS))]
    assert ticks == [True] * 7 + [False] * GAP_TICKS + [True] * 7 + [False] * (40 - 14 - GAP_TICKS)
    assert not sender.active


def test_digits_are_checked_and_can_be_cleared() -> None:
    sender = DigitSender()
    with pytest.raises(MediaError, match="'x'"):
        sender.add("12x")
    assert not sender.active
    sender.add("5")
    assert sender.active
    sender.clear()
    assert sender.tick(0) is None and not sender.active
