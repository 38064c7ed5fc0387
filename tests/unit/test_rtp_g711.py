"""G.711: the standard decode values, encode of every 16-bit sample against a plain reference, round trips,
transcoding, and agreement with Python's audioop."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from types import ModuleType

import numpy as np
import pytest

from infolinia.voice.rtp import g711

ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = bytes(range(256))


# Plain references written from G.711 Tables 1a/2a: the decision levels of each segment (chord) and its step.
def reference_ulaw(sample: int) -> int:
    """mu-law: 14-bit magnitude plus the bias 33, segment s spans [2^(s+5), 2^(s+6)) with steps of 2^(s+1)."""
    value = sample >> 2
    negative = value < 0
    biased = min(abs(value), 8158) + 33
    segment = next(s for s in range(8) if biased < 1 << (s + 6))
    step = (biased - (1 << (segment + 5))) >> (segment + 1)
    code = (segment << 4) | step
    return (code | 0x80 if negative else code) ^ 0xFF  # sign bit 1 = negative, then every bit inverted


def reference_alaw(sample: int) -> int:
    """A-law: 13-bit magnitude; segment 0 spans [0, 32) in steps of 2, segment s >= 1 spans [16 * 2^s, 32 * 2^s)."""
    value = sample >> 3
    negative = value < 0
    magnitude = -value - 1 if negative else value
    if magnitude < 32:
        segment, step = 0, magnitude >> 1
    else:
        segment = next(s for s in range(1, 8) if magnitude < 32 << s)
        step = (magnitude - (16 << segment)) >> segment
    code = (segment << 4) | step
    return (code if negative else code | 0x80) ^ 0x55  # sign bit 1 = positive, then even bits inverted


def reference_ulaw_decode(code: int) -> int:
    code ^= 0xFF
    segment, step = (code >> 4) & 7, code & 0x0F
    magnitude = ((1 << (segment + 5)) + (step << (segment + 1)) + (1 << segment) - 33) << 2
    return -magnitude if code & 0x80 else magnitude


def reference_alaw_decode(code: int) -> int:
    code ^= 0x55
    segment, step = (code >> 4) & 7, code & 0x0F
    low = step << 1 if segment == 0 else (16 << segment) + (step << segment)
    half = 1 if segment == 0 else 1 << (segment - 1)
    magnitude = (low + half) << 3
    return magnitude if code & 0x80 else -magnitude


def test_decode_matches_the_standard_values() -> None:
    assert [g711.ulaw_to_linear(c) for c in range(256)] == [reference_ulaw_decode(c) for c in range(256)]
    assert [g711.alaw_to_linear(c) for c in range(256)] == [reference_alaw_decode(c) for c in range(256)]


def test_known_codes() -> None:
    assert (g711.ulaw_to_linear(0xFF), g711.ulaw_to_linear(0x7F)) == (0, 0)
    assert (g711.ulaw_to_linear(0x80), g711.ulaw_to_linear(0x00)) == (32124, -32124)
    assert (g711.alaw_to_linear(0xD5), g711.alaw_to_linear(0x55)) == (8, -8)
    assert (g711.alaw_to_linear(0xAA), g711.alaw_to_linear(0x2A)) == (32256, -32256)
    assert g711.ulaw_encode(np.zeros(3, dtype=np.int16)) == b"\xff\xff\xff"
    assert g711.alaw_encode(np.zeros(3, dtype=np.int16)) == b"\xd5\xd5\xd5"


def test_encode_of_every_sample_matches_the_reference() -> None:
    samples = [int(s) for s in ALL_SAMPLES]
    assert list(g711.ulaw_encode(ALL_SAMPLES)) == [reference_ulaw(s) for s in samples]
    assert list(g711.alaw_encode(ALL_SAMPLES)) == [reference_alaw(s) for s in samples]
    assert [g711.linear_to_ulaw(s) for s in samples] == [reference_ulaw(s) for s in samples]
    assert [g711.linear_to_alaw(s) for s in samples] == [reference_alaw(s) for s in samples]


def test_ulaw_codes_round_trip_except_negative_zero() -> None:
    back = g711.ulaw_encode(g711.ulaw_decode(ALL_CODES))
    differ = {code: back[code] for code in range(256) if back[code] != code}
    assert differ == {0x7F: 0xFF}  # -0 and +0 both decode to 0, which encodes as +0


def test_alaw_codes_all_round_trip() -> None:
    assert g711.alaw_encode(g711.alaw_decode(ALL_CODES)) == ALL_CODES


def test_decode_bytes_and_array_agree() -> None:
    for decode, decode_array in (
        (g711.ulaw_decode, g711.ulaw_decode_array),
        (g711.alaw_decode, g711.alaw_decode_array),
    ):
        pcm = decode(ALL_CODES)
        assert len(pcm) == 512
        assert np.array_equal(np.frombuffer(pcm, dtype="<i2"), decode_array(ALL_CODES))


def test_encode_accepts_bytes_and_arrays_alike() -> None:
    pcm = ALL_SAMPLES.astype("<i2").tobytes()
    assert g711.ulaw_encode(pcm) == g711.ulaw_encode(ALL_SAMPLES) == g711.ulaw_encode(bytearray(pcm))
    assert g711.alaw_encode(memoryview(pcm)) == g711.alaw_encode(ALL_SAMPLES)


def test_encode_refuses_odd_bytes_and_other_dtypes() -> None:
    with pytest.raises(ValueError, match="16-bit"):
        g711.ulaw_encode(b"\x00\x01\x02")
    with pytest.raises(ValueError, match="int16"):
        g711.alaw_encode(np.zeros(4, dtype=np.int32))  # type: ignore[arg-type]


def test_empty_input() -> None:
    assert g711.ulaw_encode(b"") == g711.alaw_decode(b"") == g711.ulaw_to_alaw(b"") == b""


def test_transcoding_matches_decode_then_encode() -> None:
    assert g711.ulaw_to_alaw(ALL_CODES) == g711.alaw_encode(g711.ulaw_decode(ALL_CODES))
    assert g711.alaw_to_ulaw(ALL_CODES) == g711.ulaw_encode(g711.alaw_decode(ALL_CODES))


@pytest.mark.parametrize(
    ("encode", "decode", "top", "worst"),
    [
        # half of the largest step (1024) plus what dropping the low 2 bits loses
        (g711.ulaw_encode, g711.ulaw_decode_array, 32124, 515),
        (g711.alaw_encode, g711.alaw_decode_array, 32256, 512),
    ],
)
def test_quantiser_is_monotonic_and_within_half_a_step(
    encode: Callable[[g711.Pcm], bytes], decode: Callable[[bytes], np.ndarray], top: int, worst: int
) -> None:
    decoded = decode(encode(ALL_SAMPLES)).astype(np.int32)
    assert np.all(np.diff(decoded) >= 0)
    error = np.abs(decoded - ALL_SAMPLES)
    inside = np.abs(ALL_SAMPLES.astype(np.int32)) <= top
    assert int(error[inside].max()) == worst
    assert np.array_equal(error[~inside], np.abs(ALL_SAMPLES[~inside].astype(np.int32)) - top)


def _audioop() -> ModuleType | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:  # removed in Python 3.13
            return None
    return audioop


def test_agrees_with_audioop() -> None:
    audioop = _audioop()
    if audioop is None:
        pytest.skip("audioop is not in this Python")
    pcm = ALL_SAMPLES.astype("<i2").tobytes()
    assert g711.ulaw_encode(pcm) == audioop.lin2ulaw(pcm, 2)
    assert g711.alaw_encode(pcm) == audioop.lin2alaw(pcm, 2)
    assert g711.ulaw_decode(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)
    assert g711.alaw_decode(ALL_CODES) == audioop.alaw2lin(ALL_CODES, 2)
