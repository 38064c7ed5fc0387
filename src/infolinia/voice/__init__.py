"""The phone line: SIP signalling (``voice.sip``); media and IVR are to come."""
