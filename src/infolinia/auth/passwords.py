"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so a failed login costs the same time either way.
_DUMMY = _hasher.hash("infolinia-no-such-user")

MIN_LENGTH = 4
MAX_LENGTH = 256


def check_strength(password: str, min_length: int) -> None:
    """Refuse passwords shorter than ``min_length`` or made of one repeated character."""
    from infolinia.errors import Invalid

    if len(password) < min_length:
        raise Invalid(f"password: use at least {min_length} characters", code="weak_password")
    if min_length and len(set(password)) < 2:
        raise Invalid("password: use more than one distinct character", code="weak_password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
