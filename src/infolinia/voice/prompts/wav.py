"""Reading RIFF/WAVE files, strictly: the chunk walk and the format header, each problem with its own message.

Pure. Accepted encodings: PCM of 8 (unsigned), 16, 24 or 32 bits, IEEE float of 32 bits, G.711 mu-law and A-law,
also inside ``WAVE_FORMAT_EXTENSIBLE``; mono or stereo; 8-48 kHz. Chunks may not run past the end of the RIFF
form nor the form past the end of the file (a truncated upload or a lying header), except in a ``streamed`` file:
espeak-ng writes to a pipe and cannot know its sizes, so it declares the largest, and the data runs to the end.
Bytes after the RIFF form (an ID3 tag, for instance) are ignored.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

import numpy as np

from infolinia.voice.prompts.audio import Signal
from infolinia.voice.rtp.g711 import alaw_decode_array, ulaw_decode_array

__all__ = ["MAX_RATE", "MIN_RATE", "AudioError", "WavFormat", "decode", "read"]

MIN_RATE: Final = 8000
MAX_RATE: Final = 48000
MAX_CHUNKS: Final = 256

_ENCODINGS: Final = {1: "pcm", 3: "float", 6: "alaw", 7: "ulaw"}
_BITS: Final = {"pcm": (8, 16, 24, 32), "float": (32,), "alaw": (8,), "ulaw": (8,)}
_KNOWN_OTHERS: Final = {
    2: "Microsoft ADPCM",
    0x11: "IMA ADPCM",
    0x31: "GSM 6.10",
    0x50: "MPEG",
    0x55: "MP3",
    0xFF: "AAC",
    0x674F: "Ogg Vorbis",
    0xF1AC: "FLAC",
}
_EXTENSIBLE: Final = 0xFFFE
_GUID_TAIL: Final = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


class AudioError(ValueError):
    """A file that is not audio we accept; the message says what is wrong with it."""


@dataclass(frozen=True)
class WavFormat:
    """What the ``fmt `` chunk says, once checked."""

    encoding: str  # pcm, float, alaw, ulaw
    channels: int
    rate: int
    bits: int

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.bits // 8


def _u32(data: bytes | memoryview, at: int) -> int:
    value: int = struct.unpack_from("<I", data, at)[0]
    return value


def _form_end(data: bytes, streamed: bool) -> int:
    """Where the RIFF form ends, once the header is checked."""
    if len(data) < 12:
        raise AudioError(f"not a WAV file: {len(data)} bytes is too short for a RIFF header")
    magic = data[:4]
    if magic == b"RIFX":
        raise AudioError("big-endian WAV (RIFX) is not supported: save it as ordinary (little-endian) WAV")
    if magic in (b"RF64", b"BW64"):
        raise AudioError(f"{magic.decode()} WAV (for files over 4 GB) is not supported")
    if magic != b"RIFF":
        raise AudioError("not a WAV file: it does not start with 'RIFF'")
    if data[8:12] != b"WAVE":
        raise AudioError(f"a RIFF file, but not WAVE audio (its form type is {bytes(data[8:12])!r})")
    declared = _u32(data, 4) + 8
    if declared > len(data):
        if streamed:
            return len(data)
        raise AudioError(f"the file is truncated: its RIFF header declares {declared} bytes, it has {len(data)}")
    if declared < 12:
        raise AudioError(f"the RIFF header declares {declared} bytes, fewer than its own header")
    return declared


def _chunks(data: bytes, streamed: bool) -> dict[bytes, memoryview]:
    """The ``fmt `` and ``data`` chunks' bodies (other chunks are skipped); each at most once."""
    view = memoryview(data)
    end = _form_end(data, streamed)
    found: dict[bytes, memoryview] = {}
    at, count = 12, 0
    while end - at >= 8:  # a few stray bytes at the end (a pad byte, say) are not a chunk
        count += 1
        if count > MAX_CHUNKS:
            raise AudioError(f"more than {MAX_CHUNKS} chunks: not a WAV file we accept")
        cid, size = bytes(view[at : at + 4]), _u32(view, at + 4)
        body_end = at + 8 + size
        if body_end > end:
            if not (streamed and cid == b"data"):
                raise AudioError(
                    f"chunk {cid!r} at byte {at} declares {size} bytes but only {end - at - 8} remain: "
                    "the file is truncated or its sizes are wrong"
                )
            body_end = end
        if cid in (b"fmt ", b"data"):
            if cid in found:
                raise AudioError(f"two {cid.decode().strip()} chunks: not a WAV file we accept")
            found[cid] = view[at + 8 : body_end]
        at = body_end + (size & 1)
    if b"fmt " not in found:
        raise AudioError("no fmt chunk: the file does not say how its audio is encoded")
    if b"data" not in found:
        raise AudioError("no data chunk: the file holds no audio")
    return found


def _encoding(fmt: memoryview) -> str:
    tag = struct.unpack_from("<H", fmt, 0)[0]
    if tag == _EXTENSIBLE:
        if len(fmt) < 40:
            raise AudioError(f"an extensible fmt chunk of {len(fmt)} bytes is too short (40 at least)")
        if bytes(fmt[26:40]) != _GUID_TAIL:
            raise AudioError("unknown WAVE_FORMAT_EXTENSIBLE sub-format")
        tag = struct.unpack_from("<H", fmt, 24)[0]
    if tag not in _ENCODINGS:
        name = _KNOWN_OTHERS.get(tag, "an unknown encoding")
        raise AudioError(f"{name} (format tag {tag:#06x}) is not supported: use PCM, 32-bit float, mu-law or A-law WAV")
    return _ENCODINGS[tag]


def _format(fmt: memoryview) -> WavFormat:
    if len(fmt) < 16:
        raise AudioError(f"the fmt chunk of {len(fmt)} bytes is too short (16 at least)")
    encoding = _encoding(fmt)
    channels, rate, byte_rate, block_align, bits = struct.unpack_from("<HIIHH", fmt, 2)
    if channels == 0:
        raise AudioError("the fmt chunk says the audio has 0 channels")
    if channels > 2:
        raise AudioError(f"{channels} channels: only mono or stereo recordings are accepted")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(f"a sample rate of {rate} Hz is not supported ({MIN_RATE}-{MAX_RATE} Hz)")
    if bits not in _BITS[encoding]:
        allowed = ", ".join(str(b) for b in _BITS[encoding])
        raise AudioError(f"{bits}-bit {encoding} is not supported ({allowed} bits)")
    found = WavFormat(encoding, channels, rate, bits)
    if block_align != found.frame_bytes:
        raise AudioError(
            f"the block align of {block_align} bytes does not match {channels} channel(s) of {bits} bits "
            f"({found.frame_bytes})"
        )
    if byte_rate != rate * found.frame_bytes:
        raise AudioError(f"the byte rate {byte_rate} does not match {rate} Hz x {found.frame_bytes} bytes per frame")
    return found


def read(data: bytes, *, streamed: bool = False) -> tuple[WavFormat, memoryview]:
    """The checked format and the raw audio bytes (whole frames). ``streamed``: see the module's docstring."""
    chunks = _chunks(data, streamed)
    fmt = _format(chunks[b"fmt "])
    audio = chunks[b"data"]
    if len(audio) == 0:
        raise AudioError("the data chunk is empty: the file holds no audio")
    whole = len(audio) - len(audio) % fmt.frame_bytes
    if whole != len(audio) and not streamed:
        raise AudioError(f"the data chunk of {len(audio)} bytes is not a whole number of {fmt.frame_bytes}-byte frames")
    return fmt, audio[:whole]


def _pcm24(raw: memoryview) -> Signal:
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    value = np.where(value >= 1 << 23, value - (1 << 24), value)
    return value / float(1 << 23)


def _floats(raw: memoryview) -> Signal:
    values = np.frombuffer(raw, dtype="<f4").astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise AudioError("the audio holds NaN or infinite samples")
    clipped: Signal = np.clip(values, -1.0, 1.0)
    return clipped


def _samples(fmt: WavFormat, raw: memoryview) -> Signal:
    if fmt.encoding == "float":
        return _floats(raw)
    if fmt.encoding in ("alaw", "ulaw"):
        pcm = (alaw_decode_array if fmt.encoding == "alaw" else ulaw_decode_array)(bytes(raw))
        return pcm / 32768.0
    if fmt.bits == 8:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if fmt.bits == 24:
        return _pcm24(raw)
    kind = "<i2" if fmt.bits == 16 else "<i4"
    return np.frombuffer(raw, dtype=kind) / float(1 << (fmt.bits - 1))


def decode(fmt: WavFormat, raw: memoryview) -> Signal:
    """The audio as float samples at ``fmt.rate``, stereo mixed down to mono."""
    signal = _samples(fmt, raw)
    if fmt.channels == 2:
        mono: Signal = signal.reshape(-1, 2).mean(axis=1)
        return mono
    return signal
