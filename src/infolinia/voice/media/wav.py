"""RIFF/WAVE for 16-bit PCM at 8 kHz: read a mono file's samples, write the 44-byte header of a plain one.

Reading walks the chunks (odd sizes padded to even), needs `fmt ` before `data`, and takes PCM (format 1, or
WAVE_FORMAT_EXTENSIBLE with the PCM sub-format). A `data` chunk that claims more than the file holds (a stream
written without knowing its length) gives what is there. Anything else raises MediaError.
"""

from __future__ import annotations

import struct
from typing import Final

import numpy as np
from numpy.typing import NDArray

from infolinia.voice.media.codecs import RATE
from infolinia.voice.media.errors import MediaError

HEADER_SIZE: Final = 44
BITS: Final = 16

_RIFF = struct.Struct("<4sI4s")
_CHUNK = struct.Struct("<4sI")
_FMT = struct.Struct("<HHIIHH")
_FORMAT_PCM: Final = 1
_FORMAT_EXTENSIBLE: Final = 0xFFFE
_PCM_GUID_TAIL: Final = bytes.fromhex("000000001000800000aa00389b71")  # KSDATAFORMAT_SUBTYPE_PCM after its first 2


def header(channels: int, frames: int) -> bytes:
    """The header of a 16-bit PCM WAV at 8 kHz with `frames` sample frames of `channels` channels."""
    block = channels * BITS // 8
    data = frames * block
    return (
        _RIFF.pack(b"RIFF", 36 + data, b"WAVE")
        + _CHUNK.pack(b"fmt ", _FMT.size)
        + _FMT.pack(_FORMAT_PCM, channels, RATE, RATE * block, block, BITS)
        + _CHUNK.pack(b"data", data)
    )


def read_mono(data: bytes) -> NDArray[np.int16]:
    """The samples of an 8 kHz, 16-bit, mono PCM WAV file."""
    if len(data) < _RIFF.size:
        raise MediaError("not a WAV file: shorter than a RIFF header")
    riff, _size, wave = _RIFF.unpack_from(data)
    if riff != b"RIFF" or wave != b"WAVE":
        raise MediaError("not a WAV file: no RIFF/WAVE header")
    offset = _RIFF.size
    fmt_seen = False
    while offset + _CHUNK.size <= len(data):
        name, size = _CHUNK.unpack_from(data, offset)
        body = offset + _CHUNK.size
        if name == b"fmt ":
            _check_format(data[body : body + size])
            fmt_seen = True
        elif name == b"data":
            if not fmt_seen:
                raise MediaError("WAV data chunk before its fmt chunk")
            end = min(body + size, len(data))
            end -= (end - body) % 2
            return np.frombuffer(data, dtype="<i2", count=(end - body) // 2, offset=body).astype(np.int16)
        offset = body + size + (size & 1)
    raise MediaError("WAV file without a data chunk")


def _check_format(fmt: bytes) -> None:
    if len(fmt) < _FMT.size:
        raise MediaError("WAV fmt chunk too short")
    tag, channels, rate, _byte_rate, _block, bits = _FMT.unpack_from(fmt)
    if tag == _FORMAT_EXTENSIBLE and len(fmt) >= 40 and fmt[26:40] == _PCM_GUID_TAIL and fmt[24:26] == b"\x01\x00":
        tag = _FORMAT_PCM
    if (tag, channels, rate, bits) != (_FORMAT_PCM, 1, RATE, BITS):
        raise MediaError(
            f"WAV must be 8000 Hz 16-bit mono PCM, not format {tag:#x}, {channels} channel(s), {rate} Hz, {bits} bits"
        )
