"""The two codecs a leg speaks, G.711 PCMU and PCMA (RFC 3551 static payload types 0 and 8), as lookup data.

Everything per packet is a table: encoding a prompt once (`encode`), decoding a payload for a recording
(`decode`), and transcoding one payload into the other law with a single `bytes.translate` (`transcoder`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from infolinia.voice.media.errors import MediaError
from infolinia.voice.rtp import alaw_decode_array, alaw_encode, ulaw_decode_array, ulaw_encode
from infolinia.voice.rtp.g711 import ALAW_TO_ULAW, ULAW_TO_ALAW, Pcm

Codec = Literal["PCMU", "PCMA"]

RATE: Final = 8000  # samples per second, and RTP timestamp units per second
FRAME_MS: Final = 20
FRAME_SAMPLES: Final = RATE * FRAME_MS // 1000  # 160: one packet's payload, one byte per sample
PAYLOAD_TYPES: Final[dict[int, Codec]] = {0: "PCMU", 8: "PCMA"}
CODECS: Final[tuple[Codec, ...]] = ("PCMU", "PCMA")

_ENCODERS: Final[dict[Codec, Callable[[Pcm], bytes]]] = {"PCMU": ulaw_encode, "PCMA": alaw_encode}
_DECODERS: Final[dict[Codec, Callable[[bytes], NDArray[np.int16]]]] = {
    "PCMU": ulaw_decode_array,
    "PCMA": alaw_decode_array,
}
SILENCE: Final[dict[Codec, bytes]] = {codec: _ENCODERS[codec](np.zeros(FRAME_SAMPLES, np.int16)) for codec in CODECS}
"""One 20 ms frame of silence per codec (160 x 0xFF in PCMU, 160 x 0xD5 in PCMA)."""
_TRANSCODE: Final[dict[tuple[Codec, Codec], bytes]] = {("PCMU", "PCMA"): ULAW_TO_ALAW, ("PCMA", "PCMU"): ALAW_TO_ULAW}


def codec_of(payload_type: int) -> Codec:
    """The codec of a negotiated payload type; MediaError for any other than 0 (PCMU) and 8 (PCMA)."""
    try:
        return PAYLOAD_TYPES[payload_type]
    except KeyError:
        raise MediaError(f"payload type {payload_type} is not PCMU (0) or PCMA (8)") from None


def encode(codec: Codec, samples: NDArray[np.int16]) -> bytes:
    return _ENCODERS[codec](samples)


def decode(codec: Codec, payload: bytes) -> NDArray[np.int16]:
    return _DECODERS[codec](payload)


def transcoder(source: Codec, target: Codec) -> bytes | None:
    """The `bytes.translate` table from one law to the other, or None when they are the same."""
    return _TRANSCODE.get((source, target))
