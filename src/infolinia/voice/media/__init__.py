"""The media plane: play prompts, collect RFC 4733 digits, bridge and record call legs over RTP.

`MediaEngine` (one per process) opens `MediaLeg`s; the call control connects each to what SDP negotiated and
drives it. `Audio` is immutable 8 kHz audio with its G.711 frames cached; `Recording` a leg's stereo WAV.
The pure parts (`outstream`, `relay`, `reception`, `playback`, `digits`) hold the per-packet logic; `engine`
and `leg` only move bytes and time. See docs/media.md.
"""

from infolinia.voice.media.audio import Audio
from infolinia.voice.media.codecs import Codec
from infolinia.voice.media.engine import MediaEngine
from infolinia.voice.media.errors import MediaError
from infolinia.voice.media.leg import MediaLeg
from infolinia.voice.media.recording import Recording
from infolinia.voice.media.stats import LegStats

__all__ = ["Audio", "Codec", "LegStats", "MediaEngine", "MediaError", "MediaLeg", "Recording"]
