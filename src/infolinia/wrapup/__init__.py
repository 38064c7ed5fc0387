"""Wrap-up: each queue's disposition codes and first-contact resolution derived from them (docs/wrap-up.md)."""
