"""HTTP API (``/api/v1``): thin routers over the actions; access checks live in ``deps``."""
