"""G.711 PCMU (mu-law) and PCMA (A-law) between 16-bit signed linear PCM and G.711 bytes, table-driven.

Linear PCM is little-endian 16-bit (`bytes`) or a numpy int16 array. The quantisation follows ITU-T G.711: mu-law
on the top 14 bits of a sample, A-law on the top 13, with the segment (chord) found from the standard decision
levels, and even bits inverted on the wire. Negative samples are mapped to a magnitude as the widely used CCITT
sample code does (and Python's audioop, SoX and Asterisk with it): mu-law takes -x, A-law takes -x - 1.

Decoding is two `bytes.translate` passes (low and high byte of each sample); encoding is one numpy lookup in a
table of every 14-bit (mu-law) or 13-bit (A-law) input. Transcoding PCMU <-> PCMA is one `translate` through the
table of decode-then-encode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
from numpy.typing import NDArray

Pcm = bytes | bytearray | memoryview | NDArray[np.int16]

_ULAW_BIAS: Final = 0x84
_ULAW_CLIP: Final = 8159  # largest 14-bit magnitude before the bias
_ULAW_SEGMENT_ENDS: Final = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ALAW_SEGMENT_ENDS: Final = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def ulaw_to_linear(code: int) -> int:
    """One PCMU byte to its 16-bit linear value (-32124..32124)."""
    code = ~code & 0xFF
    exponent = (code >> 4) & 0x07
    magnitude = ((((code & 0x0F) << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return -magnitude if code & 0x80 else magnitude


def alaw_to_linear(code: int) -> int:
    """One PCMA byte to its 16-bit linear value (-32256..32256)."""
    code ^= 0x55
    segment = (code >> 4) & 0x07
    magnitude = (code & 0x0F) << 4
    magnitude = magnitude + 8 if segment == 0 else (magnitude + 0x108) << (segment - 1)
    return magnitude if code & 0x80 else -magnitude


def linear_to_ulaw(sample: int) -> int:
    """One 16-bit sample to its PCMU byte."""
    value = sample >> 2
    mask = 0x7F if value < 0 else 0xFF
    value = min(abs(value), _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    segment = _segment(value, _ULAW_SEGMENT_ENDS)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def linear_to_alaw(sample: int) -> int:
    """One 16-bit sample to its PCMA byte."""
    value = sample >> 3
    mask = 0xD5 if value >= 0 else 0x55
    if value < 0:
        value = -value - 1
    segment = _segment(value, _ALAW_SEGMENT_ENDS)
    if segment >= 8:
        return 0x7F ^ mask
    mantissa = (value >> (segment if segment >= 2 else 1)) & 0x0F
    return ((segment << 4) | mantissa) ^ mask


def _segment(value: int, ends: tuple[int, ...]) -> int:
    for segment, end in enumerate(ends):
        if value <= end:
            return segment
    return len(ends)


def _decode_tables(to_linear: list[int]) -> tuple[bytes, bytes, NDArray[np.int16]]:
    low = bytes(v & 0xFF for v in to_linear)
    high = bytes((v >> 8) & 0xFF for v in to_linear)
    return low, high, np.array(to_linear, dtype=np.int16)


def _encode_table(encode: Callable[[int], int], shift: int) -> NDArray[np.uint8]:
    """Codes for every input of 16 - shift bits, indexed by the top bits of the sample read as unsigned."""
    samples = (np.arange(1 << (16 - shift), dtype=np.uint16) << shift).view(np.int16)
    return np.array([encode(int(sample)) for sample in samples], dtype=np.uint8)


_ULAW_DECODED: Final = [ulaw_to_linear(code) for code in range(256)]
_ALAW_DECODED: Final = [alaw_to_linear(code) for code in range(256)]
_ULAW_LOW, _ULAW_HIGH, _ULAW_LINEAR = _decode_tables(_ULAW_DECODED)
_ALAW_LOW, _ALAW_HIGH, _ALAW_LINEAR = _decode_tables(_ALAW_DECODED)
_ULAW_ENCODE: Final = _encode_table(linear_to_ulaw, 2)
_ALAW_ENCODE: Final = _encode_table(linear_to_alaw, 3)
ULAW_TO_ALAW: Final = bytes(linear_to_alaw(_ULAW_DECODED[code]) for code in range(256))
ALAW_TO_ULAW: Final = bytes(linear_to_ulaw(_ALAW_DECODED[code]) for code in range(256))


def ulaw_decode(data: bytes) -> bytes:
    """PCMU bytes to little-endian 16-bit linear PCM."""
    return _interleave(data.translate(_ULAW_LOW), data.translate(_ULAW_HIGH))


def alaw_decode(data: bytes) -> bytes:
    """PCMA bytes to little-endian 16-bit linear PCM."""
    return _interleave(data.translate(_ALAW_LOW), data.translate(_ALAW_HIGH))


def ulaw_decode_array(data: bytes) -> NDArray[np.int16]:
    """PCMU bytes to an int16 array."""
    return _ULAW_LINEAR[np.frombuffer(data, dtype=np.uint8)]


def alaw_decode_array(data: bytes) -> NDArray[np.int16]:
    """PCMA bytes to an int16 array."""
    return _ALAW_LINEAR[np.frombuffer(data, dtype=np.uint8)]


def ulaw_encode(pcm: Pcm) -> bytes:
    """16-bit linear PCM (little-endian bytes or int16 array) to PCMU bytes."""
    return bytes(_ULAW_ENCODE[_unsigned(pcm) >> 2].tobytes())


def alaw_encode(pcm: Pcm) -> bytes:
    """16-bit linear PCM (little-endian bytes or int16 array) to PCMA bytes."""
    return bytes(_ALAW_ENCODE[_unsigned(pcm) >> 3].tobytes())


def ulaw_to_alaw(data: bytes) -> bytes:
    """PCMU to PCMA, each code as decoding and encoding again would give."""
    return data.translate(ULAW_TO_ALAW)


def alaw_to_ulaw(data: bytes) -> bytes:
    """PCMA to PCMU, each code as decoding and encoding again would give."""
    return data.translate(ALAW_TO_ULAW)


def _interleave(low: bytes, high: bytes) -> bytes:
    out = bytearray(2 * len(low))
    out[0::2] = low
    out[1::2] = high
    return bytes(out)


def _unsigned(pcm: Pcm) -> NDArray[np.uint16]:
    if isinstance(pcm, np.ndarray):
        if pcm.dtype != np.int16:
            raise ValueError(f"linear PCM must be int16, not {pcm.dtype}")
        return pcm.view(np.uint16)
    if len(pcm) % 2:
        raise ValueError("linear PCM must be a whole number of 16-bit samples")
    return np.frombuffer(pcm, dtype="<u2")
