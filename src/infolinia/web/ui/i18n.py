"""The UI's languages: English (the source) and Polish, with gettext catalogues kept as ``.po`` files beside this
module (``locale/<lang>/LC_MESSAGES/messages.po``) and compiled to ``.mo`` in memory when first needed, so a fresh
install has them without a build step. Dates and numbers are formatted per locale with Babel.

Which language a page speaks: the one the person chose on the page (the ``infolinia_lang`` cookie), else the
logged-in user's own setting, else the browser's ``Accept-Language``, else English.
"""

from __future__ import annotations

import gettext
import io
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

__all__ = ["DEFAULT", "LANGUAGES", "LANG_COOKIE", "catalogue", "choose", "datetime_text", "number_text"]

LOCALE_DIR: Final = Path(__file__).with_name("locale")
DOMAIN: Final = "messages"
DEFAULT: Final = "en"
#: code -> the language's own name (what the switcher shows)
LANGUAGES: Final = {"en": "English", "pl": "polski"}
LANG_COOKIE: Final = "infolinia_lang"


@cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The translations of ``language`` (compiled from its ``.po``); English is the source: identity."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        messages = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, messages)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _accepted(header: str) -> list[str]:
    """The languages of an ``Accept-Language`` header, most wanted first (malformed parts ignored)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def choose(cookie: str | None, user_language: str | None, accept_language: str) -> str:
    """The page's language: the chosen one, the user's setting, the browser's wish, else English."""
    for wanted in (cookie, user_language):
        if wanted and wanted.split("-")[0].lower() in LANGUAGES:
            return wanted.split("-")[0].lower()
    try:
        found = Locale.negotiate(_accepted(accept_language), list(LANGUAGES), sep="-")
    except (UnknownLocaleError, ValueError):
        found = None
    return str(found) if found is not None else DEFAULT


def datetime_text(value: datetime | None, language: str, timezone: str = "UTC") -> str:
    """``value`` in the tenant's time zone, the way ``language`` writes a date and time (empty for None)."""
    if value is None:
        return ""
    return format_datetime(value, "medium", tzinfo=ZoneInfo(timezone), locale=language)


def number_text(value: float, language: str) -> str:
    return format_decimal(value, locale=language)
