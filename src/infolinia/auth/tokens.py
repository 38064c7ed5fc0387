"""Secrets for sessions and API tokens: random, shown once, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = {"session": "ils_", "api": "ilt_"}


def new_secret(kind: str) -> str:
    return PREFIX[kind] + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
