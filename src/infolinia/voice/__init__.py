"""Voice: SIP signalling and RTP media."""
