"""Promised contacts going out: callbacks (when, by when, what next after each attempt), later campaigns.

- ``policy``: a tenant's callback policy (promise times, personal fallback, retries), validated, pure
- ``promise``: when a callback may start, by when its promise is kept, and what an attempt's outcome leads to, pure
- ``actions``: callbacks requested, rescheduled, cancelled, attempted (the one write path: audit and events)
"""
