"""Audio: construction, WAV in and out (also against sox), 20 ms frames in both laws, tones and concatenation."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from tests.audio import dominant_frequency, level_dbfs

from infolinia.voice.media import Audio, MediaError
from infolinia.voice.media.codecs import SILENCE
from infolinia.voice.rtp import alaw_encode, ulaw_decode_array, ulaw_encode

SAMPLES = arrays(np.int16, st.integers(0, 2000))


@given(SAMPLES)
def test_wav_round_trip(samples: np.ndarray) -> None:
    audio = Audio.from_pcm16(samples)
    again = Audio.from_wav(audio.to_wav())
    assert again == audio
    assert np.array_equal(again.samples, samples)
    assert audio.duration_s == len(samples) / 8000


def test_bytes_and_array_give_the_same_audio() -> None:
    samples = np.array([0, 1, -1, 32767, -32768, 1234], dtype=np.int16)
    assert Audio.from_pcm16(samples.astype("<i2").tobytes()) == Audio.from_pcm16(samples)


def test_audio_is_immutable_and_copies_its_input() -> None:
    samples = np.zeros(10, dtype=np.int16)
    audio = Audio.from_pcm16(samples)
    samples[0] = 5
    assert audio.samples[0] == 0
    with pytest.raises(ValueError):
        audio.samples[0] = 1


@pytest.mark.parametrize(
    "bad", [b"\x00", np.zeros(4, dtype=np.int32), np.zeros((2, 2), dtype=np.int16), np.zeros(3, dtype=np.float64)]
)
def test_from_pcm16_refuses_what_is_not_16_bit_mono(bad: bytes | np.ndarray) -> None:
    with pytest.raises(MediaError):
        Audio.from_pcm16(bad)


def _wav(channels: int = 1, rate: int = 8000, bits: int = 16, tag: int = 1, data: bytes = b"\x00\x00") -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(
    "data",
    [
        _wav(channels=2),
        _wav(rate=16000),
        _wav(bits=8),
        _wav(tag=3),  # IEEE float
        _wav(tag=6),  # A-law
        b"RIFX" + _wav()[4:],
        _wav()[:20],
        _wav()[:36],  # fmt, no data chunk
        b"",
    ],
)
def test_from_wav_refuses_other_formats(data: bytes) -> None:
    with pytest.raises(MediaError):
        Audio.from_wav(data)


def test_from_wav_skips_other_chunks_and_takes_a_truncated_data_chunk() -> None:
    samples = np.arange(-50, 50, dtype=np.int16)
    plain = Audio.from_pcm16(samples).to_wav()
    fmt_end = 12 + 8 + 16
    listed = plain[:fmt_end] + b"LIST" + struct.pack("<I", 3) + b"abc\x00" + plain[fmt_end:]
    assert np.array_equal(Audio.from_wav(listed).samples, samples)
    claims_more = plain[:40] + struct.pack("<I", 0xFFFFFFFF) + plain[44:]
    assert np.array_equal(Audio.from_wav(claims_more).samples, samples)
    assert np.array_equal(Audio.from_wav(plain[:-1]).samples, samples[:-1])  # half a sample at the end


def test_from_wav_takes_wave_format_extensible_pcm() -> None:
    samples = np.arange(10, dtype=np.int16)
    guid = bytes.fromhex("0100000000001000800000aa00389b71")
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 1, 8000, 16000, 2, 16, 22, 16, 4) + guid
    data = samples.tobytes()
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    assert np.array_equal(Audio.from_wav(b"RIFF" + struct.pack("<I", len(body)) + body).samples, samples)


def sox() -> str:
    path = shutil.which("sox")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("sox is missing: install the Debian package sox (scripts/install-test-prereqs.sh)")
        pytest.skip("sox is missing (Debian package sox)")
    return path


def test_reads_what_sox_writes_and_sox_reads_what_it_writes(tmp_path: Path) -> None:
    made = tmp_path / "sox.wav"
    subprocess.run(
        [sox(), "-n", "-r", "8000", "-b", "16", "-c", "1", "-e", "signed-integer", str(made), "synth", "0.5", "sine",
         "700"],
        check=True,
    )  # fmt: skip
    audio = Audio.from_wav(made.read_bytes())
    assert audio.duration_s == pytest.approx(0.5)
    assert dominant_frequency(audio.samples) == pytest.approx(700, abs=2)
    ours = tmp_path / "ours.wav"
    ours.write_bytes(Audio.tone(1100, 300).to_wav())
    info = subprocess.run([sox(), "--i", str(ours)], check=True, capture_output=True, text=True).stdout
    assert "Channels       : 1" in info
    assert "Sample Rate    : 8000" in info
    assert "00:00:00.30 = 2400 samples" in info


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_frames_are_20_ms_payloads_and_the_last_is_padded_with_silence(codec: str) -> None:
    rng = np.random.default_rng(7)
    samples = rng.integers(-20000, 20000, 160 * 3 + 17).astype(np.int16)
    audio = Audio.from_pcm16(samples)
    frames = audio.frames(codec)  # type: ignore[arg-type]
    assert [len(f) for f in frames] == [160] * 4
    encode = ulaw_encode if codec == "PCMU" else alaw_encode
    assert b"".join(frames[:3]) == encode(samples[:480])
    assert frames[3][:17] == encode(samples[480:])
    assert frames[3][17:] == SILENCE[codec][17:]  # type: ignore[index]
    assert audio.frames(codec) is frames  # type: ignore[arg-type]  # encoded once


def test_silence_and_empty_audio() -> None:
    assert Audio.silence(40).frames("PCMU") == (b"\xff" * 160, b"\xff" * 160)
    assert Audio.silence(20).frames("PCMA") == (b"\xd5" * 160,)
    assert Audio.silence(0).frames("PCMU") == ()
    assert Audio.concat().duration_s == 0
    with pytest.raises(MediaError):
        Audio.silence(-1)


def test_tone_has_its_frequency_length_and_level() -> None:
    tone = Audio.tone(1000, 250, level_dbfs=-6)
    assert len(tone.samples) == 2000
    assert dominant_frequency(tone.samples) == pytest.approx(1000, abs=1)
    assert level_dbfs(tone.samples) == pytest.approx(-6, abs=0.1)
    decoded = ulaw_decode_array(b"".join(tone.frames("PCMU")))
    assert dominant_frequency(decoded) == pytest.approx(1000, abs=1)  # survives G.711
    for freq, level in ((0, -12.0), (4000, -12.0), (440, 1.0)):
        with pytest.raises(MediaError):
            Audio.tone(freq, 100, level)


def test_concat_joins_in_order() -> None:
    a, b = Audio.tone(500, 100), Audio.silence(30)
    joined = Audio.concat(a, b, a)
    assert joined.duration_s == pytest.approx(0.23)
    assert np.array_equal(joined.samples, np.concatenate([a.samples, b.samples, a.samples]))
    assert joined != a
    assert repr(joined) == "Audio(0.230 s)"
