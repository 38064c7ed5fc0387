"""The supervisor wallboard: the board (pure), its inputs (read), boards shared between viewers (hub)."""
