"""Recording layout: stereo WAV, left received and right sent, placed by timestamps on one time line."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from tests.audio import dominant_frequency

from infolinia.voice.media import Audio, MediaError
from infolinia.voice.media.recording import LATE, Recording
from infolinia.voice.rtp import ulaw_decode_array, ulaw_encode

START = 1000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 8000, 2)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)


def frame(value: int) -> bytes:
    return ulaw_encode(np.full(160, value, dtype=np.int16))


def recorder(tmp_path: Path, clock: Clock) -> tuple[Recording, list[str]]:
    stopped: list[str] = []
    return Recording(tmp_path / "r.wav", START, clock, lambda: stopped.append("stopped")), stopped


def test_channels_length_and_placement(tmp_path: Path) -> None:
    clock = Clock()
    rec, stopped = recorder(tmp_path, clock)
    # received: packets 0, 1, 3 of a stream (2 lost), jittered arrival; sent: a frame at 40 ms
    for k, delay in ((0, 0.003), (1, 0.011), (3, 0.001)):
        rec.received("PCMU", frame(1000 * (k + 1)), 5, 9000 + 160 * k, START + 0.1 + 0.02 * k + delay)
    rec.sent("PCMU", frame(-500), 6, 77, START + 0.04)
    clock.now = START + 0.5
    assert rec.duration_s == pytest.approx(0.5)
    rec.stop()
    rec.stop()
    assert stopped == ["stopped"] and not rec.active
    samples = read(rec.path)
    assert len(samples) == 4000 and rec.duration_s == 0.5
    left, right = samples[:, 0], samples[:, 1]
    first = round(0.103 * 8000)  # the first packet's arrival anchors its stream
    assert not left[:first].any()
    assert set(left[first : first + 160]) == {ulaw_value(1000)}
    assert set(left[first + 160 : first + 320]) == {ulaw_value(2000)}
    assert not left[first + 320 : first + 480].any()  # the lost packet: silence
    assert set(left[first + 480 : first + 640]) == {ulaw_value(4000)}
    assert not left[first + 640 :].any()
    assert set(right[320:480]) == {ulaw_value(-500)} and not right[:320].any() and not right[480:].any()


def ulaw_value(value: int) -> int:
    return int(ulaw_decode_array(ulaw_encode(np.array([value], dtype=np.int16)))[0])


def test_a_new_ssrc_or_a_wild_timestamp_anchors_again(tmp_path: Path) -> None:
    clock = Clock()
    rec, _ = recorder(tmp_path, clock)
    rec.received("PCMU", frame(100), 1, 0, START + 0.1)
    rec.received("PCMU", frame(200), 2, 123_456, START + 0.2)  # another source
    rec.received("PCMU", frame(300), 2, 999_999_999, START + 0.3)  # a timestamp hours away
    clock.now = START + 0.4
    rec.stop()
    left = read(rec.path)[:, 0]
    for at, value in ((800, 100), (1600, 200), (2400, 300)):
        assert set(left[at : at + 160]) == {ulaw_value(value)}


def test_the_file_is_a_valid_wav_of_what_is_flushed_while_recording(tmp_path: Path) -> None:
    clock = Clock()
    rec, _ = recorder(tmp_path, clock)
    tone = Audio.tone(700, 2000)
    for k, payload in enumerate(tone.frames("PCMA")):
        rec.sent("PCMA", payload, 9, 160 * k, START + 0.02 * k)
        clock.now = START + 0.02 * (k + 1)
        if k % 25 == 24:
            rec.flush(clock.now)
    on_disk = read(rec.path)  # as a crash would leave it: everything up to LATE before the last flush
    assert len(on_disk) == 2 * 8000 - LATE
    assert dominant_frequency(on_disk[:, 1]) == pytest.approx(700, abs=2)
    rec.stop()
    assert len(read(rec.path)) == 2 * 8000


def test_late_packets_find_their_place_and_too_late_ones_are_cut(tmp_path: Path) -> None:
    clock = Clock()
    rec, _ = recorder(tmp_path, clock)
    rec.received("PCMU", frame(100), 1, 0, START)  # anchors at 0
    clock.now = START + 1.0
    rec.flush(clock.now)  # on disk: up to 0.5 s
    rec.received("PCMU", frame(200), 1, 8000 * 6 // 10, START + 1.0)  # belongs at 0.6 s: still in memory
    rec.received("PCMU", frame(300), 1, 3900, START + 1.0)  # belongs at 0.4875 s: its first 100 samples are out
    rec.stop()
    left = read(rec.path)[:, 0]
    assert set(left[4800:4960]) == {ulaw_value(200)}
    assert not left[3900:4000].any()
    assert set(left[4000:4060]) == {ulaw_value(300)}


def test_an_unwritable_path_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        Recording(tmp_path / "missing" / "r.wav", START, Clock(), lambda: None)
