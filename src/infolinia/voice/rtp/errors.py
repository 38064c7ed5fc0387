"""The one error the RTP wire codecs raise."""

from __future__ import annotations


class RtpError(ValueError):
    """A datagram or payload that is not valid RTP, RTCP or RFC 4733, or a value that cannot be written as one."""
