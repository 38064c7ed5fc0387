import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infolinia.customers.identities import (
    InvalidIdentity,
    normalize_chat_id,
    normalize_email,
    normalize_identity,
    normalize_phone,
)

E164 = re.compile(r"\+[1-9][0-9]{6,14}")


@pytest.mark.parametrize(
    "raw",
    [
        "+48 600 100 200",
        "+48600100200",
        "600100200",
        "600-100-200",
        "600.100.200",
        "(600) 100 200",
        "0048600100200",
        "0048 600 100 200",
        "tel:+48600100200",
        "TEL:+48-600-100-200",
        "  +48 600 100 200  ",
    ],
)
def test_phone_forms_normalize_to_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+48600100200"


def test_phone_uses_default_region_for_national_numbers() -> None:
    assert normalize_phone("22 123 45 67") == "+48221234567"
    assert normalize_phone("(650) 253-0000", "US") == "+16502530000"
    assert normalize_phone("650 253 0000", "us") == "+16502530000"


def test_phone_with_country_code_ignores_default_region() -> None:
    assert normalize_phone("+1 650 253 0000", "PL") == "+16502530000"


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("", "PL"),
        ("   ", "PL"),
        ("+48 12", "PL"),
        ("600 ABC 200", "PL"),
        ("1-800-FLOWERS", "US"),
        ("++48600100200", "PL"),
        ("48+600100200", "PL"),
        ("+48 600 100 200 ext. 5", "PL"),
        ("600100200", "US"),
        ("600100200", "XX"),
        ("+48600100200@host", "PL"),
        ("+48 " + "6" * 37, "PL"),
    ],
)
def test_phone_rejects(raw: str, region: str) -> None:
    with pytest.raises(InvalidIdentity):
        normalize_phone(raw, region)


def test_phone_length_limit() -> None:
    padded = "+48" + " " * 25 + "600100200"  # 37 characters: accepted
    assert normalize_phone(padded) == "+48600100200"
    too_long = "+48" + " " * 29 + "600100200"  # 41 characters
    with pytest.raises(InvalidIdentity, match="40"):
        normalize_phone(too_long)


def test_phone_error_message_is_human() -> None:
    with pytest.raises(InvalidIdentity) as info:
        normalize_phone("+48 12")
    assert str(info.value) == "'+48 12' is not a valid phone number for region PL"
    assert isinstance(info.value, ValueError)


@given(st.text(max_size=45))
def test_phone_any_text_either_e164_or_invalid(raw: str) -> None:
    try:
        result = normalize_phone(raw)
    except InvalidIdentity:
        return
    assert E164.fullmatch(result)
    assert normalize_phone(result) == result


@given(st.from_regex(r"(\+48|0048)?[ -]?[1-9][0-9]{2}[ -.]?[0-9]{3}[ -.]?[0-9]{3}", fullmatch=True))
def test_phone_polish_shapes_are_idempotent(raw: str) -> None:
    try:
        result = normalize_phone(raw)
    except InvalidIdentity:
        return
    assert result.startswith("+48")
    assert result[3:] == re.sub(r"\D", "", raw)[-9:]
    assert normalize_phone(result) == result


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Foo.Bar@Example.COM", "foo.bar@example.com"),
        ("  anna@example.pl ", "anna@example.pl"),
        ("Zofia@Bücher.de", "zofia@bücher.de"),
    ],
)
def test_email_normalized_and_lowercased(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "no-at-sign", "a@b", "two@@example.com", "a b@example.com", "@x.pl"])
def test_email_rejects(raw: str) -> None:
    with pytest.raises(InvalidIdentity):
        normalize_email(raw)


def test_email_length_limit() -> None:
    longest = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 61
    assert len(longest) == 254
    assert normalize_email(longest.upper()) == longest
    with pytest.raises(InvalidIdentity, match="254"):
        normalize_email(longest + "d")


def test_email_error_names_the_address() -> None:
    with pytest.raises(InvalidIdentity, match="'no-at-sign' is not a valid e-mail address"):
        normalize_email("no-at-sign")


@given(st.emails())
def test_email_generated_addresses_are_lowercase_and_idempotent(raw: str) -> None:
    try:
        result = normalize_email(raw)
    except InvalidIdentity:
        return  # e.g. special-use domains email_validator refuses
    assert result == result.lower()
    assert normalize_email(result) == result


@given(st.text(max_size=300))
def test_email_any_text_never_raises_other_errors(raw: str) -> None:
    try:
        result = normalize_email(raw)
    except InvalidIdentity:
        return
    assert "@" in result
    assert len(result) <= 254


def test_chat_id_stripped() -> None:
    assert normalize_chat_id("  web-abc123  ") == "web-abc123"
    assert normalize_chat_id("x" * 200) == "x" * 200


@pytest.mark.parametrize("raw", ["", "   ", "a b", "a\tb", "a\x00b", "a\u200bb", "a\x7f", "a\u00a0b", "x" * 201])
def test_chat_id_rejects(raw: str) -> None:
    with pytest.raises(InvalidIdentity):
        normalize_chat_id(raw)


@given(st.text(max_size=210))
def test_chat_id_result_is_printable_without_whitespace(raw: str) -> None:
    try:
        result = normalize_chat_id(raw)
    except InvalidIdentity:
        return
    assert result == raw.strip()
    assert 1 <= len(result) <= 200
    assert result.isprintable()
    assert not any(ch.isspace() for ch in result)


def test_normalize_identity_dispatches() -> None:
    assert normalize_identity("phone", "600 100 200", "PL") == "+48600100200"
    assert normalize_identity("phone", "650 253 0000", "US") == "+16502530000"
    assert normalize_identity("email", "A@Example.com", "PL") == "a@example.com"
    assert normalize_identity("chat", " abc ", "PL") == "abc"


def test_normalize_identity_unknown_kind() -> None:
    with pytest.raises(InvalidIdentity, match="unknown identity kind 'fax'"):
        normalize_identity("fax", "123", "PL")
