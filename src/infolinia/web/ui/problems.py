"""Problems shown on the UI's pages, in the viewer's language.

A form's schema (pydantic) names each problem by its error ``type`` with parameters in ``ctx`` (``min_length``,
``le``, ...); the domain's actions name a refusal by ``DomainError.code`` with parameters in ``details``. The tables
here give each known type and code a message id (extracted into the catalogues) formatted with those parameters;
a few messages of our own validators and actions that share one code are recognised by their English text. What
no table knows keeps its English text, as the REST API says it (the API itself is never translated).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from infolinia.errors import DomainError
from infolinia.web.ui.render import N_

__all__ = ["CODES", "EMPTY", "TEXTS", "TYPES", "problem_text", "problems_of", "refusal"]

Translate = Callable[[str], str]

#: pydantic error type -> message id, formatted with the error's ``ctx``
TYPES: Final[Mapping[str, str]] = {
    "missing": N_("This field is required."),
    "string_too_short": N_("Use at least {min_length} characters."),
    "string_too_long": N_("Use at most {max_length} characters."),
    "string_type": N_("Enter text."),
    "string_pattern_mismatch": N_("This value does not have the expected form."),
    "too_short": N_("Give at least {min_length} items."),
    "too_long": N_("Give at most {max_length} items."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "float_type": N_("Enter a number."),
    "decimal_parsing": N_("Enter a number."),
    "finite_number": N_("Enter a finite number."),
    "bool_parsing": N_("Choose yes or no."),
    "greater_than": N_("Enter a value greater than {gt}."),
    "greater_than_equal": N_("Enter a value of at least {ge}."),
    "less_than": N_("Enter a value less than {lt}."),
    "less_than_equal": N_("Enter a value of at most {le}."),
    "multiple_of": N_("Enter a multiple of {multiple_of}."),
    "literal_error": N_("Choose one of: {expected}."),
    "enum": N_("Choose one of: {expected}."),
    "json_invalid": N_("This is not valid JSON."),
    "json_type": N_("This is not valid JSON."),
    "dict_type": N_("This value should be a set of named values."),
    "list_type": N_("This value should be a list."),
    "extra_forbidden": N_("This field is not expected here."),
    "url_parsing": N_("Enter a valid URL."),
    "url_type": N_("Enter a valid URL."),
    "url_scheme": N_("This URL should start with {expected_schemes}."),
    "datetime_parsing": N_("Enter a valid date and time."),
    "datetime_type": N_("Enter a valid date and time."),
    "datetime_from_date_parsing": N_("Enter a valid date and time."),
    "timezone_aware": N_("Give the date and time with its time zone."),
    "date_parsing": N_("Enter a valid date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("Enter a valid date (YYYY-MM-DD)."),
    "time_parsing": N_("Enter a valid time (HH:MM)."),
    "uuid_parsing": N_("This is not a valid identifier."),
    "value_error": N_("This value is not valid."),
}

#: what an empty text (``string_too_short`` with ``min_length`` 1) says
EMPTY: Final = N_("This field cannot be empty.")

#: ``DomainError.code`` -> message id, formatted with the error's ``details`` (when they are a mapping)
CODES: Final[Mapping[str, str]] = {
    "email_taken": N_("A user with this e-mail address exists."),
    "role_not_assignable": N_("You may not give this role."),
    "last_admin": N_("You are the tenant's last active admin: give another user the admin role first."),
    "self_deactivation": N_("You cannot deactivate yourself."),
    "tenant_role_mismatch": N_("A user cannot move between tenant and platform roles."),
    "unknown_team": N_("That team does not exist."),
    "not_an_agent": N_("This role cannot have an agent profile."),
    "extension_taken": N_("This extension belongs to another agent."),
    "sip_password": N_("Changing the extension needs a new SIP password."),
    "name_taken": N_("This name is taken."),
    "slug_taken": N_("This address (slug) is taken."),
    "number_taken": N_("This number is taken (a number belongs to one tenant)."),
    "invalid_number": N_("This is not a valid phone number."),
    "username_taken": N_("This username is taken."),
    "trunk_unreachable": N_("A trunk needs allowed sources, or a username and password, or both."),
    "concurrent_change": N_("A change made at the same time conflicts with this one: try again."),
    "stale_version": N_(
        "Someone saved version {version} since you opened this page: open it again to see their changes."
    ),
    "script_changed": N_("The script changed (now version {version}): open it again."),
    "required": EMPTY,
    "flow_in_use": N_("Phone numbers use this flow: give them another flow first."),
    "category_in_use": N_("{articles} articles are in this category: move them first."),
    "invalid_audio": N_("A prompt needs some audio."),
    "customer_erased": N_("This customer's data was erased."),
}

#: English texts (of our validators, or of actions whose one code has several messages) -> message id, formatted
#: with the text's named groups; a whole-text match
TEXTS: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (r"password: use at least (?P<min_length>\d+) characters", N_("Use at least {min_length} characters.")),
        (r"password: use more than one distinct character", N_("Use more than one distinct character.")),
        (r"password: a password needs a username", N_("A password needs a username.")),
        (r"unknown time zone .*", N_("Unknown time zone (use an IANA name such as Europe/Warsaw).")),
        (r"unknown country code .*", N_("Unknown country code (use ISO 3166 alpha-2 such as PL).")),
        (r"not a language code: .*", N_("Not a language code (use e.g. pl, en, pt-BR).")),
        (r"null is not a value here .*", N_("Leave the field out to keep its value.")),
        (r"text must not contain NUL characters", N_("Text must not contain NUL characters.")),
        (r"the campaign is finished", N_("The campaign is finished.")),
        (r"a tenant has at most (?P<count>\d+) scripts: delete one first",
         N_("A tenant has at most {count} scripts: delete one first.")),
    )
)  # fmt: skip


def _formatted(_: Translate, message: str, params: Mapping[str, Any], english: str) -> str:
    """``message`` translated and filled in with ``params``; ``english`` when a parameter is missing."""
    try:
        return _(message).format_map({name: str(value) for name, value in params.items()})
    except (KeyError, IndexError, ValueError):
        return english


def _known_text(_: Translate, english: str) -> str | None:
    for pattern, message in TEXTS:
        found = pattern.fullmatch(english)
        if found is not None:
            return _formatted(_, message, found.groupdict(), english)
    return None


def problem_text(_: Translate, error: ErrorDetails) -> str:
    """One schema error in the viewer's language: by its text if ours, by its type, else pydantic's English."""
    english = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "value_error":
        return _known_text(_, english) or english
    ctx = error.get("ctx") or {}
    if error["type"] == "string_too_short" and ctx.get("min_length") == 1:
        return _(EMPTY)
    message = TYPES.get(error["type"])
    return english if message is None else _formatted(_, message, ctx, english)


def problems_of(exc: ValidationError, _: Translate) -> dict[str, str]:
    """A form's problems by field name (the first of each), from a schema's validation error."""
    found: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "form"
        if name not in found:
            found[name] = problem_text(_, error)
    return found


def refusal(exc: DomainError, _: Translate) -> str:
    """A domain error's message in the viewer's language (the API's English one when no table knows it)."""
    known = _known_text(_, exc.message)
    if known is not None:
        return known
    message = CODES.get(exc.code)
    if message is None:
        return exc.message
    return _formatted(_, message, exc.details if isinstance(exc.details, Mapping) else {}, exc.message)
