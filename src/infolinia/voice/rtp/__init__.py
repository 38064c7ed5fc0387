"""RTP media wire formats, pure: packets (RFC 3550), G.711 PCMU/PCMA, RFC 4733 telephone events."""

from infolinia.voice.rtp.dtmf import DIGITS, Digit, DtmfFrame, DtmfReceiver, TelephoneEvent, dtmf_frames
from infolinia.voice.rtp.errors import RtpError
from infolinia.voice.rtp.g711 import (
    alaw_decode,
    alaw_decode_array,
    alaw_encode,
    alaw_to_linear,
    alaw_to_ulaw,
    linear_to_alaw,
    linear_to_ulaw,
    ulaw_decode,
    ulaw_decode_array,
    ulaw_encode,
    ulaw_to_alaw,
    ulaw_to_linear,
)
from infolinia.voice.rtp.packet import RtpExtension, RtpPacket, is_rtcp

__all__ = [
    "DIGITS",
    "Digit",
    "DtmfFrame",
    "DtmfReceiver",
    "RtpError",
    "RtpExtension",
    "RtpPacket",
    "TelephoneEvent",
    "alaw_decode",
    "alaw_decode_array",
    "alaw_encode",
    "alaw_to_linear",
    "alaw_to_ulaw",
    "dtmf_frames",
    "is_rtcp",
    "linear_to_alaw",
    "linear_to_ulaw",
    "ulaw_decode",
    "ulaw_decode_array",
    "ulaw_encode",
    "ulaw_to_alaw",
    "ulaw_to_linear",
]
