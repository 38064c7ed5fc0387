"""Audio: immutable 8 kHz mono 16-bit sound, and its 20 ms G.711 payloads encoded once.

A prompt is decoded or generated once and played to many calls: `frames(codec)` encodes it on first use and keeps
the 160-byte payloads, so sending is a lookup. The last frame is padded with silence to a whole 20 ms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from infolinia.voice.media import wav
from infolinia.voice.media.codecs import FRAME_SAMPLES, RATE, Codec, encode
from infolinia.voice.media.errors import MediaError

FULL_SCALE = 32767


class Audio:
    """8 kHz mono 16-bit audio. The samples are a read-only int16 array; equal samples make equal Audio."""

    __slots__ = ("_frames", "_samples")

    def __init__(self, samples: NDArray[np.int16]) -> None:
        """Wraps an int16 array as it is (the factories below copy); prefer them."""
        samples.flags.writeable = False
        self._samples = samples
        self._frames: dict[Codec, tuple[bytes, ...]] = {}

    @classmethod
    def from_pcm16(cls, samples: NDArray[np.int16] | bytes) -> Audio:
        """From an int16 array (1-D) or little-endian 16-bit bytes, both 8 kHz mono."""
        if isinstance(samples, np.ndarray):
            if samples.dtype != np.int16 or samples.ndim != 1:
                raise MediaError(f"PCM samples must be a 1-D int16 array, not {samples.ndim}-D {samples.dtype}")
            return cls(samples.copy())
        if len(samples) % 2:
            raise MediaError("16-bit PCM must have an even number of bytes")
        return cls(np.frombuffer(samples, dtype="<i2").astype(np.int16))

    @classmethod
    def from_wav(cls, data: bytes) -> Audio:
        """From the bytes of an 8 kHz, 16-bit, mono PCM WAV file; MediaError for any other format."""
        return cls(wav.read_mono(data))

    @classmethod
    def silence(cls, ms: int) -> Audio:
        return cls(np.zeros(_samples_in(ms), dtype=np.int16))

    @classmethod
    def tone(cls, freq_hz: float, ms: int, level_dbfs: float = -12.0) -> Audio:
        """A sine of `freq_hz` (below 4 kHz), peaking at `level_dbfs` relative to full scale."""
        if not 0 < freq_hz < RATE / 2 or level_dbfs > 0:
            raise MediaError("a tone needs 0 < freq_hz < 4000 and level_dbfs <= 0")
        t = np.arange(_samples_in(ms)) / RATE
        amplitude = FULL_SCALE * 10 ** (level_dbfs / 20)
        return cls(np.round(amplitude * np.sin(2 * math.pi * freq_hz * t)).astype(np.int16))

    @classmethod
    def concat(cls, *parts: Audio) -> Audio:
        return cls(np.concatenate([p._samples for p in parts]) if parts else np.zeros(0, dtype=np.int16))

    @property
    def samples(self) -> NDArray[np.int16]:
        return self._samples

    @property
    def duration_s(self) -> float:
        return len(self._samples) / RATE

    def frames(self, codec: Codec) -> Sequence[bytes]:
        """The 20 ms payloads (160 bytes each) in `codec`, encoded on first use; the last padded with silence."""
        frames = self._frames.get(codec)
        if frames is None:
            padded = np.zeros(-(-len(self._samples) // FRAME_SAMPLES) * FRAME_SAMPLES, dtype=np.int16)
            padded[: len(self._samples)] = self._samples
            encoded = encode(codec, padded)
            frames = self._frames[codec] = tuple(
                encoded[i : i + FRAME_SAMPLES] for i in range(0, len(encoded), FRAME_SAMPLES)
            )
        return frames

    def to_wav(self) -> bytes:
        return wav.header(1, len(self._samples)) + self._samples.astype("<i2").tobytes()

    def __len__(self) -> int:
        return len(self._samples)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Audio) and np.array_equal(self._samples, other._samples)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Audio({self.duration_s:.3f} s)"


def _samples_in(ms: int) -> int:
    if ms < 0:
        raise MediaError("a duration cannot be negative")
    return RATE * ms // 1000
