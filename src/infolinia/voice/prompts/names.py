"""What a prompt may be called and which languages it may be recorded in (checked wherever a name comes in)."""

from __future__ import annotations

import re
from typing import Final

from infolinia.errors import Invalid

__all__ = ["LANGUAGE", "PROMPT_NAME", "check_language", "check_name"]

#: the same pattern as the prompt names in IVR flows (``voice/ivr/flow.py``)
PROMPT_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
LANGUAGE: Final = re.compile(r"[a-z]{2,3}")


def check_name(name: str) -> str:
    """``name`` if it is a valid prompt name, else ``Invalid`` (422) saying what a name may hold."""
    if not PROMPT_NAME.fullmatch(name):
        raise Invalid(f"prompt name {name[:80]!r}: 1-64 letters, digits, '_', '.' or '-'", code="invalid_prompt_name")
    return name


def check_language(language: str) -> str:
    """``language`` if it is a 2-3 letter lower-case code, else ``Invalid`` (422)."""
    if not LANGUAGE.fullmatch(language):
        raise Invalid(f"language {language[:20]!r}: a 2-3 letter code such as 'pl' or 'en'", code="invalid_language")
    return language
