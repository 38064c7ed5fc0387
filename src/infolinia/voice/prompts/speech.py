"""Numbers said in prompts: a caller's place in the queue, the estimated wait, a phone number read back.

Pure: each function returns the names of the system prompts to play, in order (``PromptLibrary.phrase`` turns them
into audio). Polish grammar: "minuta" agrees with the number before it — 1 minuta, 2-4 minuty, 5-21 minut,
22-24 minuty, 25-31 minut... (the few-form for endings 2-4 except 12-14), and the number itself is feminine
("jedna minuta", "dwie minuty", "dwadzieścia dwie minuty", but "dwadzieścia jeden minut").
"""

from __future__ import annotations

from typing import Final

from infolinia.voice.prompts.catalog import LANGUAGES, number_name

__all__ = ["MAX_DIGITS", "MAX_POSITION", "cardinal", "digits", "minutes_to_say", "plural_form", "position", "wait"]

MAX_POSITION: Final = 999
MAX_DIGITS: Final = 32
#: up to this many minutes the wait is said to the minute; above, to five minutes; above an hour, "more than an hour"
EXACT_UNTIL_MIN: Final = 15
CAP_MIN: Final = 60
_PHONE_PUNCTUATION: Final = frozenset(" -().")


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"no spoken numbers in {language!r} (languages: {', '.join(LANGUAGES)})")


def plural_form(n: int, language: str) -> str:
    """``one``, ``few`` or ``many``: which form of a counted noun follows ``n`` (only Polish has ``few``)."""
    _check_language(language)
    if n == 1:
        return "one"
    if language == "pl" and n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return "few"
    return "many"


def cardinal(n: int, language: str, *, feminine: bool = False) -> list[str]:
    """The prompts that say ``n`` (0-999). ``feminine``: the Polish form that counts a feminine noun."""
    _check_language(language)
    if not 0 <= n <= 999:
        raise ValueError(f"cannot say {n}: numbers 0-999 only")
    hundreds, rest = divmod(n, 100)
    names = [number_name(100 * hundreds)] if hundreds else []
    if rest or not hundreds:
        feminine_form = feminine and language == "pl" and (n == 1 or (rest % 10 == 2 and rest != 12))
        names.append(number_name(rest, feminine=feminine_form))
    return names


def position(n: int, language: str) -> list[str]:
    """ "Your position in the queue is three"; above ``MAX_POSITION``, "there are still many callers ahead"."""
    if n < 1:
        raise ValueError(f"a position in the queue starts at 1, not {n}")
    _check_language(language)
    if n > MAX_POSITION:
        return ["queue_position_many"]
    return ["queue_position", *cardinal(n, language)]


def minutes_to_say(seconds: float) -> int | None:
    """The whole minutes a wait of ``seconds`` is announced as: 0 under a minute, rounded to the minute up to
    ``EXACT_UNTIL_MIN``, to five minutes up to ``CAP_MIN``; None above an hour."""
    if not seconds >= 0:  # also refuses NaN
        raise ValueError(f"a wait is a number of seconds (0 or more), not {seconds}")
    if seconds < 60:
        return 0
    if seconds > 2 * 60 * CAP_MIN:  # (infinity included)
        return None
    minutes = int(seconds / 60 + 0.5)
    if minutes > EXACT_UNTIL_MIN:
        minutes = 5 * int(minutes / 5 + 0.5)
    return minutes if minutes <= CAP_MIN else None


def wait(seconds: float, language: str) -> list[str]:
    """ "The estimated waiting time is five minutes" (see ``minutes_to_say`` for the rounding)."""
    _check_language(language)
    minutes = minutes_to_say(seconds)
    if minutes is None:
        return ["estimated_wait", "wait_over_hour"]
    if minutes == 0:
        return ["estimated_wait", "wait_under_minute"]
    return ["estimated_wait", *cardinal(minutes, language, feminine=True), f"minute_{plural_form(minutes, language)}"]


def digits(number: str, language: str) -> list[str]:
    """A phone number read back digit by digit ("plus four eight six zero zero..."). Spaces, dashes, dots and
    brackets are skipped; anything else, or no digits at all, is a ValueError."""
    _check_language(language)
    body = number.strip()
    names = []
    if body.startswith("+"):
        names.append("plus")
        body = body[1:]
    count = 0
    for char in body:
        if char in "0123456789":
            names.append(number_name(int(char)))
            count += 1
        elif char not in _PHONE_PUNCTUATION:
            raise ValueError(f"{number!r} is not a phone number: unexpected {char!r}")
    if not 1 <= count <= MAX_DIGITS:
        raise ValueError(f"{number!r} is not a phone number: 1-{MAX_DIGITS} digits expected, got {count}")
    return names
