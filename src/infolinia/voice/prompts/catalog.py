"""What the system prompts say, per language, and the demo tenant's own prompts.

Every tenant can play the system prompts; a tenant's own recording of the same name takes precedence
(``library.PromptLibrary``). Names follow the IVR flows' prompt-name pattern. Spoken numbers are built from
``number_<n>`` prompts: 0-99 each as a whole word (so "twenty-three" sounds like one number, not two), and the
hundreds 100-900 to put in front of them (``speech.py``). Polish needs feminine forms where a number counts
minutes (``number_f_1`` "jedna", ``number_f_<n>`` for the forms ending in "dwie"), and three forms of "minute".

The two tones, ``music_on_hold`` and ``beep``, are synthesised (``tones.py``) and exist in every language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "DEMO_TEXTS",
    "IDENTIFICATION_TEXTS",
    "LANGUAGES",
    "SPEECH",
    "SYSTEM_NAMES",
    "TONES",
    "VOICES",
    "Voice",
    "number_name",
]


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice and its speaking rate (words per minute; espeak-ng's default 175 is brisk for a phone)."""

    name: str
    speed: int = 150


LANGUAGES: Final = ("pl", "en")
VOICES: Final = {"pl": Voice("pl"), "en": Voice("en-gb")}
TONES: Final = frozenset({"music_on_hold", "beep"})


def number_name(n: int, *, feminine: bool = False) -> str:
    """The prompt that says ``n`` (0-99, or a whole hundred up to 900)."""
    return f"number_f_{n}" if feminine else f"number_{n}"


def _words(text: str) -> list[str]:
    return text.split()


_PL_UNITS = _words(
    "zero jeden dwa trzy cztery pięć sześć siedem osiem dziewięć dziesięć jedenaście dwanaście trzynaście "
    "czternaście piętnaście szesnaście siedemnaście osiemnaście dziewiętnaście"
)
_PL_TENS = _words(
    "_ _ dwadzieścia trzydzieści czterdzieści pięćdziesiąt sześćdziesiąt siedemdziesiąt osiemdziesiąt dziewięćdziesiąt"
)
_PL_HUNDREDS = _words("_ sto dwieście trzysta czterysta pięćset sześćset siedemset osiemset dziewięćset")
_EN_UNITS = _words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
)
_EN_TENS = _words("_ _ twenty thirty forty fifty sixty seventy eighty ninety")


def _below_hundred(n: int, units: list[str], tens: list[str], joiner: str) -> str:
    if n < 20:
        return units[n]
    ten, unit = divmod(n, 10)
    return tens[ten] if unit == 0 else f"{tens[ten]}{joiner}{units[unit]}"


def _numbers(language: str) -> dict[str, str]:
    """The number words of ``language``: 0-99, the hundreds, and (Polish) the feminine forms."""
    if language == "pl":
        words = {number_name(n): _below_hundred(n, _PL_UNITS, _PL_TENS, " ") for n in range(100)}
        words |= {number_name(100 * h): _PL_HUNDREDS[h] for h in range(1, 10)}
        words[number_name(1, feminine=True)] = "jedna"
        for n in range(2, 100, 10):
            if n != 12:
                words[number_name(n, feminine=True)] = words[number_name(n)].removesuffix("dwa") + "dwie"
        return words
    words = {number_name(n): _below_hundred(n, _EN_UNITS, _EN_TENS, "-") for n in range(100)}
    return words | {number_name(100 * h): f"{_EN_UNITS[h]} hundred" for h in range(1, 10)}


_PHRASES: Final = {
    "pl": {
        "queue_position": "Twój numer w kolejce to",
        "queue_position_many": "Przed Tobą w kolejce jest jeszcze wiele osób.",
        "estimated_wait": "Przewidywany czas oczekiwania to",
        "wait_under_minute": "mniej niż minuta.",
        "wait_over_hour": "ponad godzina.",
        "minute_one": "minuta.",
        "minute_few": "minuty.",
        "minute_many": "minut.",
        "callback_keep_place": "Jeśli chcesz, abyśmy oddzwonili, naciśnij 1. Zachowasz swoje miejsce w kolejce.",
        "callback_confirm_number": "Oddzwonimy na numer",
        "callback_other_number": "Jeśli numer jest prawidłowy, naciśnij 1. Aby podać inny numer, naciśnij 2.",
        "callback_enter_number": "Wprowadź numer telefonu, na który mamy oddzwonić, i zakończ krzyżykiem.",
        "callback_number_invalid": "Ten numer jest nieprawidłowy.",
        "callback_confirmed": "Dziękujemy. Oddzwonimy, gdy nadejdzie Twoja kolej. Możesz się teraz rozłączyć.",
        "recording_notice": "Informujemy, że rozmowy mogą być nagrywane w celu zapewnienia najwyższej jakości obsługi.",
        "voicemail_prompt": "Zostaw wiadomość po sygnale. Gdy skończysz, możesz się rozłączyć.",
        "all_agents_busy": (
            "Wszyscy nasi konsultanci są teraz zajęci. Prosimy pozostać na linii, "
            "połączymy Cię z pierwszym wolnym konsultantem."
        ),
        "transfer": "Prosimy czekać, łączymy z konsultantem.",
        "extension_unavailable": "Ta osoba nie może teraz odebrać połączenia. Prosimy zadzwonić później.",
        "goodbye": "Dziękujemy za telefon. Do usłyszenia.",
        "invalid": "Niestety, nie ma takiej opcji. Spróbuj ponownie.",
        "no_input": "Nie wybrano żadnej opcji.",
        "technical_problem": "Przepraszamy, wystąpił problem techniczny. Prosimy zadzwonić ponownie za kilka minut.",
        "plus": "plus",
        "outbound_identification": (
            "Dzwoniliśmy z biura obsługi klienta. Przepraszamy, żaden konsultant nie jest teraz wolny. "
            "Zadzwonimy ponownie. Do usłyszenia."
        ),
    },
    "en": {
        "queue_position": "Your position in the queue is",
        "queue_position_many": "There are still many callers ahead of you.",
        "estimated_wait": "The estimated waiting time is",
        "wait_under_minute": "less than a minute.",
        "wait_over_hour": "more than an hour.",
        "minute_one": "minute.",
        "minute_many": "minutes.",
        "callback_keep_place": "To be called back instead of waiting, press 1. You will keep your place in the queue.",
        "callback_confirm_number": "We will call you back on",
        "callback_other_number": "If this number is correct, press 1. To give a different number, press 2.",
        "callback_enter_number": "Please enter the number we should call, followed by the hash key.",
        "callback_number_invalid": "That number is not valid.",
        "callback_confirmed": "Thank you. We will call you back when it is your turn. You can hang up now.",
        "recording_notice": "Calls may be recorded for quality and training purposes.",
        "voicemail_prompt": "Please leave a message after the tone. When you have finished, you can hang up.",
        "all_agents_busy": (
            "All our agents are busy at the moment. Please stay on the line, "
            "and the next available agent will take your call."
        ),
        "transfer": "Please hold while we connect you.",
        "extension_unavailable": "The person you are calling cannot take your call right now. Please call again later.",
        "goodbye": "Thank you for calling. Goodbye.",
        "invalid": "Sorry, that is not a valid option. Please try again.",
        "no_input": "We did not receive your choice.",
        "technical_problem": "We are sorry, we are experiencing technical difficulties. Please call again later.",
        "plus": "plus",
        "outbound_identification": (
            "This call was from our customer service. We are sorry, no one is free to speak with you right now. "
            "We will call you again. Goodbye."
        ),
    },
}

#: a tenant's own identification message, made with espeak-ng from its name when it first dials predictively
IDENTIFICATION_TEXTS: Final = {
    "pl": (
        "Dzień dobry, tu {company}. Przepraszamy, żaden konsultant nie jest teraz wolny. "
        "Zadzwonimy ponownie. Do usłyszenia."
    ),
    "en": (
        "Hello, this is {company} calling. We are sorry, no one is free to speak with you right now. "
        "We will call you again. Goodbye."
    ),
}

#: language -> prompt name -> the text espeak-ng speaks
SPEECH: Final[dict[str, dict[str, str]]] = {lang: _PHRASES[lang] | _numbers(lang) for lang in LANGUAGES}
SYSTEM_NAMES: Final = frozenset(name for texts in SPEECH.values() for name in texts) | TONES

#: the demo tenant's own prompts (the names of ``voice.ivr.demo.DEMO_PROMPTS``), seeded as its rows
DEMO_TEXTS: Final = {
    "pl": {
        "greeting": "Dzień dobry, tu Demo Telecom. Dziękujemy za telefon.",
        "menu_main": (
            "W sprawie rachunków i płatności naciśnij 1. Jeśli potrzebujesz pomocy technicznej, naciśnij 2. "
            "Aby poznać naszą ofertę, naciśnij 3. Aby odsłuchać informację o terminach płatności, naciśnij 4. "
            "Jeśli chcesz, abyśmy do Ciebie oddzwonili, naciśnij 0."
        ),
        "payment_deadlines": (
            "Faktury wystawiamy pierwszego dnia każdego miesiąca. Termin płatności to czternaście dni od daty "
            "wystawienia faktury. Wpłaty przelewem księgujemy w ciągu dwóch dni roboczych."
        ),
        "closed": (
            "Dziękujemy za telefon do Demo Telecom. Nasi konsultanci pracują od poniedziałku do piątku "
            "od ósmej do dwudziestej, a w soboty od dziewiątej do czternastej."
        ),
        "invalid": "Niestety, nie ma takiej opcji. Spróbuj ponownie.",
        "no_input": "Nie wybrano żadnej opcji.",
        "callback_offer": (
            "Możemy oddzwonić do Ciebie, gdy tylko konsultant będzie wolny. Aby zamówić oddzwonienie, naciśnij 1. "
            "Jeśli nie chcesz, naciśnij 2."
        ),
        "goodbye": "Dziękujemy za telefon do Demo Telecom. Do usłyszenia.",
    },
    "en": {
        "greeting": "Hello, and thank you for calling Demo Telecom.",
        "menu_main": (
            "For billing and payments, press 1. For technical support, press 2. For our offers and new services, "
            "press 3. To hear about payment deadlines, press 4. To request a call back, press 0."
        ),
        "payment_deadlines": (
            "Invoices are issued on the first day of each month and are due within fourteen days. "
            "Bank transfers reach your account within two working days."
        ),
        "closed": (
            "Thank you for calling Demo Telecom. Our lines are open Monday to Friday from 8 a.m. to 8 p.m., "
            "and on Saturdays from 9 a.m. to 2 p.m."
        ),
        "invalid": "Sorry, that is not a valid option. Please try again.",
        "no_input": "We did not receive your choice.",
        "callback_offer": (
            "We can call you back as soon as an agent is free. To request a call back, press 1. Otherwise, press 2."
        ),
        "goodbye": "Thank you for calling Demo Telecom. Goodbye.",
    },
}
