"""E-mail in and out: a pure MIME and threading core (``mime``, ``html``, ``threads``, ``compose``), and the shells
that move bytes (``listener``: SMTP in, ``outbox``: SMTP out) around the one write path (``ingest``, ``process``,
``actions``)."""
