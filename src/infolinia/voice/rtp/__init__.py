"""RTP media, pure: packets (RFC 3550), RTCP reports, G.711 PCMU/PCMA, RFC 4733 telephone events, the media clock."""

from infolinia.voice.rtp.clock import Due, MediaClock
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
from infolinia.voice.rtp.rtcp import ReceiverReport, ReportBlock, RtcpOther, RtcpPacket, SenderReport, parse_rtcp

__all__ = [
    "DIGITS",
    "Digit",
    "DtmfFrame",
    "DtmfReceiver",
    "Due",
    "MediaClock",
    "ReceiverReport",
    "ReportBlock",
    "RtcpOther",
    "RtcpPacket",
    "RtpError",
    "RtpExtension",
    "RtpPacket",
    "SenderReport",
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
    "parse_rtcp",
    "ulaw_decode",
    "ulaw_decode_array",
    "ulaw_encode",
    "ulaw_to_alaw",
    "ulaw_to_linear",
]
