"""Numbers as prompts: Polish plural forms and feminine numbers, rounding of the wait, digits read back; and the
catalog every name comes from."""

from __future__ import annotations

import pytest

from infolinia.voice.ivr.demo import DEMO_PROMPTS
from infolinia.voice.prompts import speech
from infolinia.voice.prompts.catalog import DEMO_TEXTS, LANGUAGES, SPEECH, SYSTEM_NAMES, TONES
from infolinia.voice.prompts.names import PROMPT_NAME


def said(names: list[str], language: str) -> str:
    """What the caller hears, as text."""
    return " ".join(SPEECH[language][name] for name in names)


@pytest.mark.parametrize(
    ("n", "form"),
    [
        (1, "one"), (2, "few"), (3, "few"), (4, "few"), (5, "many"), (11, "many"), (12, "many"), (13, "many"),
        (14, "many"), (20, "many"), (21, "many"), (22, "few"), (23, "few"), (24, "few"), (25, "many"),
        (31, "many"), (32, "few"), (44, "few"), (100, "many"), (101, "many"), (102, "few"), (112, "many"),
        (114, "many"), (122, "few"), (0, "many"),
    ],
)  # fmt: skip
def test_polish_plural_forms(n: int, form: str) -> None:
    assert speech.plural_form(n, "pl") == form


def test_english_has_one_and_many_only() -> None:
    assert [speech.plural_form(n, "en") for n in (1, 2, 3, 22, 5)] == ["one", "many", "many", "many", "many"]


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (1, "jedna minuta."),
        (2, "dwie minuty."),
        (3, "trzy minuty."),
        (4, "cztery minuty."),
        (5, "pięć minut."),
        (12, "dwanaście minut."),
        (14, "czternaście minut."),
        (15, "piętnaście minut."),
    ],
)
def test_polish_wait_in_minutes(minutes: int, text: str) -> None:
    assert said(speech.wait(minutes * 60, "pl"), "pl") == f"Przewidywany czas oczekiwania to {text}"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (21, "dwadzieścia jeden minut."),
        (22, "dwadzieścia dwie minuty."),
        (24, "dwadzieścia cztery minuty."),
        (25, "dwadzieścia pięć minut."),
        (32, "trzydzieści dwie minuty."),
        (101, "sto jeden minut."),
        (102, "sto dwie minuty."),
        (112, "sto dwanaście minut."),
        (999, "dziewięćset dziewięćdziesiąt dziewięć minut."),
    ],
)
def test_polish_feminine_numbers_agree_with_minutes(n: int, text: str) -> None:
    names = [*speech.cardinal(n, "pl", feminine=True), f"minute_{speech.plural_form(n, 'pl')}"]
    assert said(names, "pl") == text


def test_english_wait() -> None:
    assert said(speech.wait(60, "en"), "en") == "The estimated waiting time is one minute."
    assert said(speech.wait(150, "en"), "en") == "The estimated waiting time is three minutes."
    assert said(speech.wait(59.9, "en"), "en") == "The estimated waiting time is less than a minute."
    assert said(speech.wait(4 * 3600, "en"), "en") == "The estimated waiting time is more than an hour."


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [
        (0, 0), (59.99, 0), (60, 1), (89, 1), (90, 2), (14 * 60 + 29, 14), (15 * 60 + 29, 15), (16 * 60, 15),
        (18 * 60, 20), (22 * 60 + 29, 20), (23 * 60, 25), (60 * 60, 60), (62 * 60, 60), (63 * 60, None),
        (1e9, None), (float("inf"), None),
    ],
)  # fmt: skip
def test_wait_rounding(seconds: float, minutes: int | None) -> None:
    assert speech.minutes_to_say(seconds) == minutes


@pytest.mark.parametrize("bad", [-1, float("nan"), float("-inf")])
def test_wait_refuses_what_is_not_a_wait(bad: float) -> None:
    with pytest.raises(ValueError, match="a wait is a number of seconds"):
        speech.wait(bad, "pl")


def test_position() -> None:
    assert said(speech.position(3, "pl"), "pl") == "Twój numer w kolejce to trzy"
    assert said(speech.position(1, "pl"), "pl") == "Twój numer w kolejce to jeden"
    assert said(speech.position(2, "pl"), "pl") == "Twój numer w kolejce to dwa"  # not the feminine form
    assert said(speech.position(245, "en"), "en") == "Your position in the queue is two hundred forty-five"
    assert said(speech.position(300, "pl"), "pl") == "Twój numer w kolejce to trzysta"
    assert speech.position(1000, "en") == ["queue_position_many"]
    with pytest.raises(ValueError, match="starts at 1"):
        speech.position(0, "pl")


def test_digits_read_a_phone_number_back() -> None:
    assert said(speech.digits("+48 600-12(3)", "pl"), "pl") == "plus cztery osiem sześć zero zero jeden dwa trzy"
    assert said(speech.digits("0 800 1", "en"), "en") == "zero eight zero zero one"
    for bad in ("", "+", "48x600", "١٢٣", "1" * 33, "+48+600"):
        with pytest.raises(ValueError, match="is not a phone number"):
            speech.digits(bad, "pl")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no spoken numbers in 'de'"):
        speech.position(1, "de")


def test_every_name_speech_can_return_exists_in_its_language() -> None:
    for language in LANGUAGES:
        produced = {name for n in range(1, 1001) for name in speech.position(n, language)}
        produced |= {name for s in range(0, 2 * 3600, 7) for name in speech.wait(s, language)}
        produced |= {name for n in range(0, 1000) for name in speech.cardinal(n, language, feminine=True)}
        produced |= set(speech.digits("+0123456789", language))
        assert produced <= set(SPEECH[language]), produced - set(SPEECH[language])


def test_catalog_names_and_languages() -> None:
    assert set(SPEECH) == set(LANGUAGES) == set(DEMO_TEXTS)
    for language in LANGUAGES:
        assert all(text.strip() for text in SPEECH[language].values())
        assert set(DEMO_TEXTS[language]) == DEMO_PROMPTS
    for name in SYSTEM_NAMES | DEMO_PROMPTS:
        assert PROMPT_NAME.fullmatch(name), name
    required = {
        "queue_position", "estimated_wait", "callback_keep_place", "callback_confirm_number", "callback_other_number",
        "callback_enter_number", "callback_confirmed", "recording_notice", "voicemail_prompt", "all_agents_busy",
        "transfer", "goodbye", "invalid", "no_input", "technical_problem", "music_on_hold", "beep",
    }  # fmt: skip
    assert required <= SYSTEM_NAMES
    assert TONES <= SYSTEM_NAMES
    # the phrases (not the number words) exist in every language, so no caller falls back to another language
    phrases = {name for name in SPEECH["en"] if not name.startswith("number_")}
    assert phrases <= set(SPEECH["pl"])
