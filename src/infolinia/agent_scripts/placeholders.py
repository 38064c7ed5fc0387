"""Placeholders in a script's texts, pure: ``{customer.first_name}`` is replaced by that field of the record the
agent works with, and only names in ``FIELDS`` are placeholders.

The syntax is ours, parsed here, never Python's ``str.format``: ``{`` starts a placeholder that runs to the next
``}``, ``{{`` and ``}}`` stand for the braces themselves. Anything else in braces (``{0}``, ``{customer.__class__}``,
``{customer}``, an unterminated ``{``, a lone ``}``) is a problem reported when the script is saved; when filling,
such text is left as it is. Values are plain text put in as they are (never read again as a template), with control
characters and line breaks turned into spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = [
    "FIELDS",
    "Literal",
    "Placeholder",
    "PlaceholderProblem",
    "clean",
    "fill",
    "marker",
    "names",
    "parse",
    "problems",
]

#: every placeholder a script may use, with what it is filled from
FIELDS: Mapping[str, str] = {
    "customer.name": "the customer's full name",
    "customer.first_name": "the first word of the customer's name",
    "customer.last_name": "the rest of the customer's name after the first word",
    "customer.number": "the customer number (D10001)",
    "customer.language": "the customer's language code",
    "customer.tier": "the customer's tier (standard, premium, ...)",
    "customer.phone": "the customer's first phone number (E.164)",
    "customer.email": "the customer's first e-mail address",
    "contact.channel": "the contact's channel (voice, callback, email, chat, form)",
    "contact.from": "where the contact came from: the caller's number, the sender's address",
    "case.number": "the case's number",
    "case.subject": "the case's subject",
    "case.category": "the case's category",
    "case.status": "the case's status",
    "queue.name": "the name of the contact's (or task's) queue",
    "agent.name": "the display name of the agent the script is shown to",
    "agent.first_name": "the first word of that name",
    "company.name": "the tenant's name",
}
MAX_VALUE = 500
_NAME = re.compile(r"[a-z]+\.[a-z_]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True, slots=True)
class Literal:
    text: str


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str


@dataclass(frozen=True, slots=True)
class PlaceholderProblem:
    """What is wrong at ``offset`` (a character index in the text)."""

    offset: int
    message: str


def parse(text: str) -> tuple[list[Literal | Placeholder], list[PlaceholderProblem]]:
    """The text as literal runs and placeholders, and its problems. Text in braces that is not a known placeholder
    stays a literal (with its braces), so that filling never loses what was written."""
    parts: list[Literal | Placeholder] = []
    found: list[PlaceholderProblem] = []
    run: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in "{}" and text[i + 1 : i + 2] == char:
            run.append(char)
            i += 2
            continue
        if char == "}":
            found.append(PlaceholderProblem(i, "a lone '}' (write '}}' for the character itself)"))
            run.append(char)
            i += 1
            continue
        if char != "{":
            run.append(char)
            i += 1
            continue
        end = text.find("}", i + 1)
        nested = text.find("{", i + 1)
        if end < 0 or 0 <= nested < end:
            found.append(PlaceholderProblem(i, "a '{' without its '}' (write '{{' for the character itself)"))
            run.append(char)
            i += 1
            continue
        name = text[i + 1 : end]
        if name in FIELDS:
            if run:
                parts.append(Literal("".join(run)))
                run = []
            parts.append(Placeholder(name))
        else:
            found.append(PlaceholderProblem(i, _unknown(name)))
            run.append(text[i : end + 1])
        i = end + 1
    if run:
        parts.append(Literal("".join(run)))
    return parts, found


def _unknown(name: str) -> str:
    shown = name if len(name) <= 40 else name[:40] + "..."
    if not _NAME.fullmatch(name):
        return f"{{{shown}}} is not a placeholder (placeholders look like {{customer.first_name}})"
    return f"unknown placeholder {{{shown}}} (known: {', '.join(FIELDS)})"


def problems(text: str) -> list[PlaceholderProblem]:
    """Every problem of the placeholders in ``text``; empty when it is sound."""
    return parse(text)[1]


def names(text: str) -> Iterator[str]:
    """The placeholders ``text`` uses, in order."""
    for part in parse(text)[0]:
        if isinstance(part, Placeholder):
            yield part.name


def clean(value: str) -> str:
    """A value as it goes into a text: one line, without control characters, at most ``MAX_VALUE`` characters."""
    return _CONTROL.sub(" ", value).strip()[:MAX_VALUE]


def marker(name: str) -> str:
    """What a placeholder without a value shows: its name in square brackets, so the agent sees what to ask for."""
    return f"[{name}]"


def fill(text: str, values: Mapping[str, str | None]) -> tuple[str, list[str]]:
    """``text`` with its placeholders replaced by ``values`` (names of ``FIELDS``), and the placeholders that had
    no value, in order, each once. A placeholder without a value shows as its ``marker``."""
    out: list[str] = []
    missing: list[str] = []
    for part in parse(text)[0]:
        if isinstance(part, Literal):
            out.append(part.text)
            continue
        raw = values.get(part.name)
        value = clean(raw) if raw is not None else ""
        if value:
            out.append(value)
        else:
            out.append(marker(part.name))
            if part.name not in missing:
                missing.append(part.name)
    return "".join(out), missing
