"""The UI's catalogues: the template of messages matches what the code and templates say, Polish translates every
message (plural forms included, placeholders kept), and the catalogue compiles when loaded."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from infolinia.web.ui import i18n

UI = Path(i18n.__file__).parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def extracted() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for _, _, message, _, _ in extract_from_dir(str(UI), METHODS, OPTIONS, KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_the_message_template_is_up_to_date() -> None:
    with (UI / "locale" / "messages.pot").open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    assert extracted() == template, "run: make ui-messages (then translate what is new)"


def test_polish_translates_every_message() -> None:
    with (UI / "locale" / "pl" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale="pl")
    assert catalogue.num_plurals == 3
    messages = {m.id: m for m in catalogue if m.id}
    for msgid in extracted():
        message = messages.get(msgid)
        assert message is not None, f"not in the Polish catalogue: {msgid!r}"
        assert not message.fuzzy, f"fuzzy: {msgid!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (3 if isinstance(msgid, tuple) else 1) and all(strings), f"untranslated: {msgid!r}"
        source = msgid[0] if isinstance(msgid, tuple) else msgid
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(source)), (msgid, text)


def test_the_polish_catalogue_compiles_and_translates() -> None:
    polish = i18n.catalogue("pl")
    assert polish.gettext("Log in") == "Zaloguj się"
    assert polish.ngettext("%(num)d problem found.", "%(num)d problems found.", 5) == "Znaleziono %(num)d problemów."
    assert polish.ngettext("%(num)d problem found.", "%(num)d problems found.", 3) == "Znaleziono %(num)d problemy."
    assert i18n.catalogue("en").gettext("Log in") == "Log in"


def test_the_language_follows_choice_then_user_then_browser() -> None:
    assert i18n.choose("pl", "en", "en") == "pl"
    assert i18n.choose(None, "pl", "en") == "pl"
    assert i18n.choose(None, "de", "pl-PL,pl;q=0.9") == "pl"
    assert i18n.choose("xx", None, "fr, de;q=0.5") == "en"
    assert i18n.choose(None, None, "en;q=0.2, pl;q=0.8") == "pl"
    assert i18n.choose(None, None, ";q=;;,") == "en"


def test_dates_and_numbers_follow_the_locale() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    assert i18n.datetime_text(moment, "pl", "Europe/Warsaw").startswith("5 mar 2026, 15:30")
    assert i18n.datetime_text(moment, "en", "UTC").startswith("Mar 5, 2026")
    assert i18n.number_text(1234.5, "pl") == "1\xa0234,5"
    assert i18n.number_text(1234.5, "en") == "1,234.5"
