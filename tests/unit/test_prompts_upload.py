"""Uploaded recordings: every accepted WAV flavour decodes to the same 8 kHz mono sound; malformed and hostile files
are refused with a message that names the problem, and nothing else ever escapes the decoder."""

from __future__ import annotations

import io
import struct
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infolinia.voice.prompts.audio import RATE
from infolinia.voice.prompts.upload import MAX_BYTES, AudioError, decode_upload

TONE_HZ = 440.0


def sine(rate: int, seconds: float, amplitude: float = 0.5, hz: float = TONE_HZ) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return amplitude * np.sin(2 * np.pi * hz * t)


def wav_file(signal: np.ndarray, rate: int, width: int, channels: int = 1) -> bytes:
    """A PCM WAV written by Python's ``wave`` module (8-bit is unsigned, as the format wants)."""
    frames = np.repeat(signal[:, None], channels, axis=1).reshape(-1)
    if width == 1:
        raw = np.round(frames * 127 + 128).astype(np.uint8).tobytes()
    elif width == 3:
        ints = np.round(frames * (2**23 - 1)).astype("<i4")
        raw = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints)
    else:
        raw = np.round(frames * (2 ** (8 * width - 1) - 1)).astype(f"<i{width}").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)
    return out.getvalue()


def sox_file(tmp_path: Path, rate: int, *encoding: str, channels: int = 1) -> bytes:
    """A 1 s, 440 Hz tone at half scale, encoded by SoX (mu-law, A-law, float, and 24-bit PCM, which SoX writes as
    WAVE_FORMAT_EXTENSIBLE)."""
    out = tmp_path / "sox.wav"
    command = ["sox", "-n", "-r", str(rate), "-c", str(channels), *encoding, str(out), "synth", "1", "sine", "440"]
    subprocess.run([*command, "vol", "0.5"], check=True, capture_output=True)
    return out.read_bytes()


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.argmax(spectrum) * RATE / len(samples))


def assert_tone(samples: np.ndarray, seconds: float, amplitude: float = 0.5) -> None:
    assert samples.dtype == np.int16
    assert abs(len(samples) - seconds * RATE) <= 2
    assert abs(dominant_hz(samples) - TONE_HZ) < 2
    middle = samples[len(samples) // 4 : -len(samples) // 4] / 32767
    assert abs(np.max(np.abs(middle)) - amplitude) < 0.03


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 32000, 44100, 48000])
@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_pcm_of_every_width_and_rate(rate: int, width: int) -> None:
    assert_tone(decode_upload(wav_file(sine(rate, 0.5), rate, width)), 0.5)


def test_stereo_is_mixed_down() -> None:
    left, right = sine(16000, 1.0, 0.6), np.zeros(16000)
    frames = np.stack([left, right], axis=1).reshape(-1)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.round(frames * 32767).astype("<i2").tobytes())
    assert_tone(decode_upload(out.getvalue()), 1.0, amplitude=0.3)
    assert_tone(decode_upload(wav_file(sine(8000, 1.0), 8000, 2, channels=2)), 1.0)


@pytest.mark.parametrize(
    ("encoding", "rate"),
    [
        (("-e", "u-law"), 8000),
        (("-e", "a-law"), 8000),
        (("-e", "u-law"), 16000),
        (("-e", "floating-point", "-b", "32"), 44100),
        (("-e", "signed-integer", "-b", "24"), 48000),
        (("-e", "signed-integer", "-b", "16"), 22050),
    ],
)
@pytest.mark.parametrize("channels", [1, 2])
def test_files_written_by_sox(tmp_path: Path, encoding: tuple[str, ...], rate: int, channels: int) -> None:
    assert_tone(decode_upload(sox_file(tmp_path, rate, *encoding, channels=channels)), 1.0)


def test_bytes_after_the_riff_form_are_ignored() -> None:
    tagged = wav_file(sine(8000, 0.5), 8000, 2) + b"ID3\x04\x00" + bytes(100)
    assert_tone(decode_upload(tagged), 0.5)


# --- hand-made files --------------------------------------------------------------------------------------------


def chunk(cid: bytes, body: bytes, size: int | None = None) -> bytes:
    pad = b"\x00" if len(body) % 2 else b""
    return cid + struct.pack("<I", len(body) if size is None else size) + body + pad


def fmt(
    tag: int = 1,
    channels: int = 1,
    rate: int = 8000,
    bits: int = 16,
    block_align: int | None = None,
    byte_rate: int | None = None,
) -> bytes:
    align = channels * bits // 8 if block_align is None else block_align
    per_second = rate * align if byte_rate is None else byte_rate
    return chunk(b"fmt ", struct.pack("<HHIIHH", tag, channels, rate, per_second, align, bits))


def riff(*chunks: bytes, size: int | None = None, form: bytes = b"WAVE") -> bytes:
    body = form + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) if size is None else size) + body


def pcm(seconds: float = 0.5, rate: int = 8000) -> bytes:
    return np.round(sine(rate, seconds) * 32767).astype("<i2").tobytes()


def extensible(sub_tag: int, tail: bytes = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71") -> bytes:
    head = struct.pack("<HHIIHH", 0xFFFE, 1, 8000, 16000, 2, 16)
    return chunk(b"fmt ", head + struct.pack("<HHI", 22, 16, 4) + struct.pack("<H", sub_tag) + tail)


GOOD = riff(fmt(), chunk(b"data", pcm()))

REFUSED = {
    "empty": (b"", "too short for a RIFF header"),
    "an mp3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(100), "does not start with 'RIFF'"),
    "big-endian": (b"RIFX" + GOOD[4:], "RIFX"),
    "rf64": (b"RF64" + GOOD[4:], "RF64"),
    "an avi": (riff(fmt(), chunk(b"data", pcm()), form=b"AVI "), "not WAVE audio"),
    "truncated": (GOOD[:-100], "the file is truncated"),
    "a huge riff size": (riff(fmt(), chunk(b"data", pcm()), size=0xFFFFFFFF), "the file is truncated"),
    "a riff size below its header": (riff(fmt(), chunk(b"data", pcm()), size=2), "fewer than its own header"),
    "a lying data size": (riff(fmt(), chunk(b"data", pcm(), size=0x7FFFFFFF)), "declares 2147483647 bytes but only"),
    "a lying fmt size": (riff(chunk(b"fmt ", bytes(16), size=99999), chunk(b"data", pcm())), "b'fmt ' at byte 12"),
    "no fmt": (riff(chunk(b"data", pcm())), "no fmt chunk"),
    "no data": (riff(fmt(), chunk(b"LIST", b"INFOISFT\x04\x00\x00\x00abc\x00")), "no data chunk"),
    "nothing but the header": (riff(), "no fmt chunk"),
    "two data chunks": (riff(fmt(), chunk(b"data", pcm()), chunk(b"data", pcm())), "two data chunks"),
    "two fmt chunks": (riff(fmt(), fmt(), chunk(b"data", pcm())), "two fmt chunks"),
    "a short fmt": (riff(chunk(b"fmt ", bytes(10)), chunk(b"data", pcm())), "fmt chunk of 10 bytes is too short"),
    "zero channels": (riff(fmt(channels=0, block_align=2), chunk(b"data", pcm())), "0 channels"),
    "six channels": (riff(fmt(channels=6), chunk(b"data", pcm())), "6 channels: only mono or stereo"),
    "1 MHz": (riff(fmt(rate=1_000_000), chunk(b"data", pcm())), "1000000 Hz is not supported"),
    "4 kHz": (riff(fmt(rate=4000), chunk(b"data", pcm())), "4000 Hz is not supported"),
    "12-bit pcm": (riff(fmt(bits=12, block_align=2), chunk(b"data", pcm())), "12-bit pcm is not supported"),
    "64-bit float": (riff(fmt(tag=3, bits=64), chunk(b"data", pcm())), "64-bit float is not supported"),
    "16-bit mu-law": (riff(fmt(tag=7, bits=16), chunk(b"data", pcm())), "16-bit ulaw is not supported"),
    "a wrong block align": (riff(fmt(block_align=4), chunk(b"data", pcm())), "block align of 4 bytes"),
    "a wrong byte rate": (riff(fmt(byte_rate=1), chunk(b"data", pcm())), "the byte rate 1 does not match"),
    "an mp3 in wav": (riff(fmt(tag=0x55), chunk(b"data", pcm())), "MP3 (format tag 0x0055) is not supported"),
    "adpcm": (riff(fmt(tag=2, bits=4, block_align=0, byte_rate=0), chunk(b"data", pcm())), "Microsoft ADPCM"),
    "an unknown tag": (riff(fmt(tag=0x1234), chunk(b"data", pcm())), "an unknown encoding (format tag 0x1234)"),
    "an unknown sub-format": (riff(extensible(1, bytes(14)), chunk(b"data", pcm())), "unknown WAVE_FORMAT_EXTENSIBLE"),
    "a short extensible": (riff(chunk(b"fmt ", struct.pack("<H", 0xFFFE) + bytes(20)), chunk(b"data", pcm())), "40"),
    "empty data": (riff(fmt(), chunk(b"data", b"")), "the data chunk is empty"),
    "half a frame": (riff(fmt(), chunk(b"data", pcm() + b"\x01")), "not a whole number of 2-byte frames"),
    "0.1 s": (riff(fmt(), chunk(b"data", pcm(0.1))), "too short: 0.100 s (0.2 s at least)"),
    "301 s": (riff(fmt(bits=8), chunk(b"data", bytes([128]) * 8000 * 301)), "too long: 301.0 s (300 s at most)"),
    "silence": (riff(fmt(), chunk(b"data", bytes(16000))), "the recording is silent"),
    "nan": (riff(fmt(tag=3, bits=32), chunk(b"data", np.full(4000, np.nan, "<f4").tobytes())), "NaN or infinite"),
    "many chunks": (riff(fmt(), *[chunk(b"junk", b"")] * 300, chunk(b"data", pcm())), "more than 256 chunks"),
    "over 10 MB": (riff(fmt(), chunk(b"data", bytes(MAX_BYTES))), f"{MAX_BYTES} (10 MB) at most"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_a_clear_message(case: str) -> None:
    data, message = REFUSED[case]
    with pytest.raises(AudioError) as refused:
        decode_upload(data)
    assert message in str(refused.value)


def test_the_hand_made_good_file_is_accepted() -> None:
    """The refused files above are this one with one thing wrong."""
    assert_tone(decode_upload(GOOD), 0.5)
    assert_tone(decode_upload(riff(extensible(1), chunk(b"data", pcm()))), 0.5)
    odd = riff(fmt(), chunk(b"note", b"odd"), chunk(b"data", pcm()))  # an odd-sized chunk and its pad byte
    assert_tone(decode_upload(odd), 0.5)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(
    edits=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.integers(0, len(GOOD)),
)
def test_damaged_files_never_escape_as_anything_but_audio_errors(edits: list[tuple[int, int]], cut: int) -> None:
    """Bytes changed (mostly in the headers, where they matter) and the end cut off: accepted or an AudioError."""
    data = bytearray(GOOD)
    for at, value in edits:
        data[at % 64] = value
    try:
        samples = decode_upload(bytes(data[:cut] if cut > 44 else data))
    except AudioError as exc:
        assert str(exc)
    else:
        assert samples.dtype == np.int16 and len(samples) > 0
