"""Voice: SIP signalling (``voice.sip``) and RTP media (``voice.rtp``); the server and IVR are to come."""
