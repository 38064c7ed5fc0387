"""Agents: the routing-relevant profile of a user (skills, languages, SIP extension)."""
