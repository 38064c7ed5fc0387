"""Written channels: e-mail (``email/``)."""
