"""A queue's wrap-up codes, pure: new codes, keeping an active code where one is required, and which disposition
a contact of the queue may carry."""

from __future__ import annotations

import pytest

from infolinia.wrapup.codes import (
    MAX_CODES,
    CodeError,
    check_disposition,
    check_keeps_active,
    check_new_code,
    next_position,
)


@pytest.mark.parametrize("code", ["resolved", "case-opened", "a", "x_1", "a" * 40])
def test_codes_are_slugs(code: str) -> None:
    check_new_code(code, [])


@pytest.mark.parametrize("code", ["", "Resolved", "1st", "-x", "a b", "a.b", "a" * 41, "zażółć"])
def test_other_codes_are_refused(code: str) -> None:
    with pytest.raises(CodeError) as err:
        check_new_code(code, [])
    assert err.value.kind == "invalid_code" and not err.value.conflict


def test_a_code_is_unique_in_its_queue_and_their_number_is_limited() -> None:
    with pytest.raises(CodeError) as err:
        check_new_code("resolved", ["resolved", "other"])
    assert err.value.kind == "code_taken" and err.value.conflict
    with pytest.raises(CodeError) as err:
        check_new_code("one-more", [f"c{i}" for i in range(MAX_CODES)])
    assert err.value.kind == "too_many_codes"
    check_new_code("one-more", [f"c{i}" for i in range(MAX_CODES - 1)])


def test_a_queue_that_requires_a_code_keeps_an_active_one() -> None:
    check_keeps_active(False, 0)
    check_keeps_active(True, 1)
    with pytest.raises(CodeError) as err:
        check_keeps_active(True, 0)
    assert err.value.kind == "code_required_by_queue" and err.value.conflict


def test_a_queue_without_codes_takes_any_free_code() -> None:
    check_disposition("Whatever.1", [], any_codes=False, required=False)
    check_disposition(None, [], any_codes=False, required=False)


def test_a_queue_with_codes_takes_only_its_active_ones() -> None:
    check_disposition("fixed", ["fixed", "technician"], any_codes=True, required=False)
    with pytest.raises(CodeError) as err:
        check_disposition("retired", ["fixed", "technician"], any_codes=True, required=False)
    assert err.value.kind == "unknown_disposition"
    assert err.value.details == {"field": "disposition_code", "allowed": ["fixed", "technician"]}
    assert "fixed, technician" in str(err.value)
    with pytest.raises(CodeError):  # every code deactivated: nothing is allowed
        check_disposition("fixed", [], any_codes=True, required=False)


def test_a_required_code_must_be_given() -> None:
    with pytest.raises(CodeError) as err:
        check_disposition(None, ["fixed"], any_codes=True, required=True)
    assert err.value.kind == "disposition_required" and err.value.details["allowed"] == ["fixed"]
    check_disposition("fixed", ["fixed"], any_codes=True, required=True)


def test_new_codes_go_last() -> None:
    assert next_position([]) == 0
    assert next_position([0, 5, 2]) == 6
