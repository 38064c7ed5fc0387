"""Calls: the call control that joins SIP, media, the IVR, the routing engine and the store.

``manager.CallManager`` takes new INVITEs and rings agents; ``inbound.InboundCall`` is one caller's call;
``agent.AgentLeg`` the call to an agent's phone; ``records.CallRecords`` what calls write and read.
"""
