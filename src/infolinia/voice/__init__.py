"""Voice: SIP signalling (``voice.sip``), SDP (``voice.sdp``), RTP media (``voice.rtp``) and IVR flows
(``voice.ivr``); the server is to come."""
