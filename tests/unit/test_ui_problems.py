"""The UI's problems in the viewer's language (``web.ui.problems``): every schema error type and domain error code
of its tables formats with its parameters in English and Polish; what no table knows keeps the English text."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from infolinia.auth.passwords import check_strength
from infolinia.errors import Conflict, DomainError, Invalid
from infolinia.schemas import QueueIn, UserIn
from infolinia.web.ui import i18n
from infolinia.web.ui.problems import CODES, EMPTY, TEXTS, TYPES, problem_text, problems_of, refusal

EN = i18n.catalogue("en").gettext
PL = i18n.catalogue("pl").gettext
SOURCE = Path(i18n.__file__).parents[2]  # the infolinia package


def params_of(message: str) -> dict[str, str]:
    """A value for each ``{name}`` of ``message``: distinct, so each can be found in the text."""
    names = [name for _, name, _, _ in string.Formatter().parse(message) if name]
    return {name: f"<{name}-{i}>" for i, name in enumerate(names)}


def error(kind: str, msg: str = "pydantic's English text", **ctx: Any) -> ErrorDetails:
    details: dict[str, Any] = {"type": kind, "loc": ("field",), "msg": msg, "input": "x"}
    if ctx:
        details["ctx"] = ctx
    return details  # type: ignore[return-value]


@pytest.mark.parametrize("kind", sorted(set(TYPES) - {"value_error"}))
def test_each_schema_error_type_formats_in_both_languages(kind: str) -> None:
    params = params_of(TYPES[kind])
    if kind == "string_too_short":
        params = {"min_length": "7"}
    english, polish = problem_text(EN, error(kind, **params)), problem_text(PL, error(kind, **params))
    assert english == TYPES[kind].format(**params)
    assert polish != english and PL(TYPES[kind]) != TYPES[kind], "no Polish translation"
    for value in params.values():
        assert value in english and value in polish


@pytest.mark.parametrize("code", sorted(CODES))
def test_each_domain_code_formats_in_both_languages(code: str) -> None:
    params = params_of(CODES[code])
    exc = DomainError("the API's English message", code=code, details=params)
    english, polish = refusal(exc, EN), refusal(exc, PL)
    assert english == CODES[code].format(**params)
    assert polish != english, "no Polish translation"
    for value in params.values():
        assert value in english and value in polish


@pytest.mark.parametrize("pattern, message", TEXTS, ids=[pattern.pattern for pattern, _ in TEXTS])
def test_each_known_text_formats_in_both_languages(pattern: Any, message: str) -> None:
    params = params_of(message)
    sample = pattern.pattern.replace(r"\d+", "12").replace(".*", " 'Mars/Olympus' (use this)")
    for name in params:
        sample = sample.replace(f"(?P<{name}>12)", "12")
        params[name] = "12"
    assert pattern.fullmatch(sample), sample
    as_validator = problem_text(PL, error("value_error", "Value error, " + sample))
    as_action = refusal(Invalid(sample, code="some_code"), PL)
    assert as_validator == as_action == PL(message).format(**params) != message.format(**params)


def test_real_schema_errors_are_named_in_polish() -> None:
    with pytest.raises(ValidationError) as caught:
        QueueIn.model_validate({"name": "  ", "strategy": "fastest_finger", "sl_target": "2", "sl_seconds": "x"})
    problems = problems_of(caught.value, PL)
    assert problems["name"] == PL(EMPTY) == "To pole nie może być puste."
    assert problems["strategy"].startswith("Wybierz jedną z: ") and "'longest_idle'" in problems["strategy"]
    assert problems["sl_target"] == "Podaj wartość nie większą niż 1.0."
    assert problems["sl_seconds"] == "Podaj liczbę."
    with pytest.raises(ValidationError) as caught:
        UserIn.model_validate({"email": "a@b.c", "display_name": "x" * 201, "role": "agent", "password": "p",
                               "language": "Klingon!"})  # fmt: skip
    problems = problems_of(caught.value, PL)
    assert problems["display_name"] == "Za długie: największa liczba znaków to 200."
    assert problems["language"] == "To nie jest kod języka (np. pl, en, pt-BR)."
    assert problems_of(caught.value, EN)["display_name"] == "Use at most 200 characters."


def test_a_password_rule_is_named_with_its_length() -> None:
    with pytest.raises(Invalid) as caught:
        check_strength("short", 12)
    assert refusal(caught.value, PL) == "Za krótkie: najmniejsza liczba znaków to 12."
    assert refusal(caught.value, EN) == "Use at least 12 characters."
    with pytest.raises(Invalid) as caught:
        check_strength("aaaaaaaaaaaaaa", 12)
    assert refusal(caught.value, PL) == "Użyj więcej niż jednego różnego znaku."


def test_a_first_problem_per_field_and_a_form_wide_one() -> None:
    class Form(BaseModel):
        code: Annotated[str, StringConstraints(pattern=r"^[a-z]+$"), Field(max_length=3)]
        kind: Literal["a", "b"]

    with pytest.raises(ValidationError) as caught:
        Form.model_validate({"code": "ABCD", "kind": "c"})
    assert set(problems_of(caught.value, PL)) == {"code", "kind"}
    with pytest.raises(ValidationError) as caught:
        Form.model_validate("not a form")
    assert list(problems_of(caught.value, PL)) == ["form"]


def test_unknown_types_codes_and_texts_keep_the_english() -> None:
    assert problem_text(PL, error("brand_new_type", "Something new")) == "Something new"
    assert problem_text(PL, error("value_error", "Value error, our own new rule")) == "our own new rule"
    assert refusal(Conflict("a new refusal", code="brand_new_code"), PL) == "a new refusal"
    # a parameter the translation needs but the error lacks: the English text, not a broken one
    assert refusal(Conflict("version 3 was saved", code="stale_version"), PL) == "version 3 was saved"
    assert problem_text(PL, error("greater_than_equal", "Input should be >= 1")) == "Input should be >= 1"


def test_each_code_of_the_table_is_one_the_domain_raises() -> None:
    source = "\n".join(path.read_text() for path in SOURCE.rglob("*.py") if "web" not in path.parts)
    for code in CODES:
        assert f'code="{code}"' in source, code
