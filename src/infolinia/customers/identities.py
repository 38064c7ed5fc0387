"""Normalization of the identities a customer can be found by: phone, e-mail, chat id."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

__all__ = [
    "IDENTITY_KINDS",
    "InvalidIdentity",
    "normalize_chat_id",
    "normalize_email",
    "normalize_identity",
    "normalize_phone",
]

IDENTITY_KINDS = frozenset({"phone", "email", "chat"})

MAX_PHONE_LEN = 40
MAX_EMAIL_LEN = 254
MAX_CHAT_ID_LEN = 200

_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
_PHONE_SHAPE = re.compile(r"\+?[0-9]+")


class InvalidIdentity(ValueError):
    """A phone number, e-mail address or chat id that cannot be used."""


def normalize_phone(raw: str, default_region: str = "PL") -> str:
    """Return ``raw`` in E.164 form (``+48600100200``); national numbers use ``default_region``."""
    text = raw.strip()
    if not text:
        raise InvalidIdentity("phone number is empty")
    if len(text) > MAX_PHONE_LEN:
        raise InvalidIdentity(f"phone number is longer than {MAX_PHONE_LEN} characters")
    if text[:4].lower() == "tel:":
        text = text[4:]
    compact = _PHONE_SEPARATORS.sub("", text)
    region = default_region.strip().upper()
    error = InvalidIdentity(f"{raw!r} is not a valid phone number for region {region}")
    if not _PHONE_SHAPE.fullmatch(compact):
        raise error
    try:
        number = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException as exc:
        raise error from exc
    if not phonenumbers.is_valid_number(number):
        raise error
    result: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return result


def normalize_email(raw: str) -> str:
    """Return the validated address, lowercased (local part included)."""
    text = raw.strip()
    if not text:
        raise InvalidIdentity("e-mail address is empty")
    if len(text) > MAX_EMAIL_LEN:
        raise InvalidIdentity(f"e-mail address is longer than {MAX_EMAIL_LEN} characters")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidIdentity(f"{raw!r} is not a valid e-mail address: {exc}") from exc
    normalized = result.normalized.lower()
    if len(normalized) > MAX_EMAIL_LEN:
        raise InvalidIdentity(f"e-mail address is longer than {MAX_EMAIL_LEN} characters")
    return normalized


def normalize_chat_id(raw: str) -> str:
    """Return the stripped chat id: 1..200 printable characters without whitespace."""
    text = raw.strip()
    if not text:
        raise InvalidIdentity("chat id is empty")
    if len(text) > MAX_CHAT_ID_LEN:
        raise InvalidIdentity(f"chat id is longer than {MAX_CHAT_ID_LEN} characters")
    if not text.isprintable() or any(ch.isspace() for ch in text):
        raise InvalidIdentity(f"{raw!r} is not a valid chat id: no whitespace or control characters allowed")
    return text


def normalize_identity(kind: str, raw: str, default_region: str = "PL") -> str:
    """Normalize ``raw`` as an identity of ``kind`` (``phone``, ``email`` or ``chat``)."""
    if kind == "phone":
        return normalize_phone(raw, default_region)
    if kind == "email":
        return normalize_email(raw)
    if kind == "chat":
        return normalize_chat_id(raw)
    raise InvalidIdentity(f"unknown identity kind {kind!r}; expected one of: chat, email, phone")
