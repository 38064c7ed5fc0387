"""The number a callback goes to, confirmed by the caller on the phone: pure, no I/O, driven by the call.

When a caller asks to be called back (pressing 1 in the queue, accepting the IVR's callback offer, or being
offered a callback when the queue's maximum wait runs out), the number is read back and confirmed before anything
is promised:

    "We will call you back on six zero one two three four five six seven.
     If this number is correct, press 1. To give a different number, press 2."

1 confirms; 2 asks for another number, typed and ended with ``#`` (or a pause after the last digit; ``*`` starts
it again). A number typed is checked (a valid number for the tenant's country, or international with 00 or +)
and read back for confirmation in turn. A caller with no usable caller ID (anonymous, a SIP name) is asked for the
number at once. Silence, other keys and invalid numbers count as failures; after ``retries`` repeats the next
failure gives up, and the call decides what giving up means (stay in the queue, the flow's "declined" branch).

The call feeds it digits, prompt ends and time-outs and carries out what it returns: ``Say`` (play these prompt
names; digits typed during it cut it short and count) and ``Done`` (the confirmed number in E.164, or None).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import phonenumbers

from infolinia.customers.identities import InvalidIdentity, normalize_phone
from infolinia.voice.prompts import speech

__all__ = ["Done", "NumberConfirmation", "Say", "Step", "usable_number"]

MAX_DIGITS = 16  # E.164 allows 15 digits after the country code's "+"; a national prefix adds one


@dataclass(frozen=True, slots=True)
class Say:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Done:
    number: str | None  # E.164, or None: the caller did not confirm a number


Step = Say | Done


class _Stage(Enum):
    READBACK = "readback"  # the number was read back; waiting for 1 or 2
    ENTRY = "entry"  # the caller types a number


class NumberConfirmation:
    """One confirmation. ``deadline`` is when the call must call ``timeout`` (None while a prompt plays)."""

    def __init__(
        self,
        caller: str | None,
        country: str,
        language: str,
        *,
        retries: int = 2,
        digit_timeout_s: float = 6.0,
    ) -> None:
        self.country = country
        self.language = language
        self.retries = retries
        self.digit_timeout_s = digit_timeout_s
        self.deadline: float | None = None
        self.done = False
        self._failures = 0
        self._typed = ""
        self._candidate = usable_number(caller, country)
        self._stage = _Stage.READBACK if self._candidate else _Stage.ENTRY
        self._speaking = False

    # --- inputs ----------------------------------------------------------------------------------------------

    def start(self, now: float) -> list[Step]:
        return self._prompt()

    def prompt_done(self, now: float) -> list[Step]:
        """The last ``Say`` finished: wait for the caller's key from now."""
        if self.done or not self._speaking:
            return []
        self._speaking = False
        self.deadline = now + self.digit_timeout_s
        return []

    def digit(self, digit: str, now: float) -> list[Step]:
        if self.done:
            return []
        self._speaking = False  # a key cuts the prompt short (the call stops the playback)
        if self._stage is _Stage.READBACK:
            if digit == "1" and self._candidate is not None:
                return self._finish(self._candidate)
            if digit == "2":
                self._stage = _Stage.ENTRY
                self._typed = ""
                return self._prompt()
            return self._fail(("invalid",))
        if digit == "#":
            return self._entered() if self._typed else self._fail(("callback_number_invalid",))
        if digit == "*":
            self._typed = ""
            self.deadline = now + self.digit_timeout_s
            return []
        if digit.isdigit():
            self._typed += digit
            if len(self._typed) > MAX_DIGITS:
                self._typed = ""
                return self._fail(("callback_number_invalid",))
            self.deadline = now + self.digit_timeout_s
            return []
        return []  # A-D: no meaning here

    def timeout(self, now: float) -> list[Step]:
        """No key for ``digit_timeout_s``: a number being typed is taken as ended; otherwise a failure."""
        if self.done or self.deadline is None or now < self.deadline:
            return []
        self.deadline = None
        if self._stage is _Stage.ENTRY and self._typed:
            return self._entered()
        return self._fail(("no_input",))

    # --- the steps -------------------------------------------------------------------------------------------

    def _entered(self) -> list[Step]:
        typed, self._typed = self._typed, ""
        number = usable_number(typed, self.country)
        if number is None:
            return self._fail(("callback_number_invalid",))
        self._candidate = number
        self._stage = _Stage.READBACK
        return self._prompt()

    def _fail(self, lead: tuple[str, ...]) -> list[Step]:
        self._failures += 1
        if self._failures > self.retries:
            return self._finish(None)
        return self._prompt(lead)

    def _finish(self, number: str | None) -> list[Step]:
        self.done = True
        self.deadline = None
        self._speaking = False
        return [Done(number)]

    def _prompt(self, lead: tuple[str, ...] = ()) -> list[Step]:
        self.deadline = None
        self._speaking = True
        if self._stage is _Stage.ENTRY:
            return [Say((*lead, "callback_enter_number"))]
        assert self._candidate is not None
        spoken = speech.digits(self._spoken(self._candidate), self.language)
        return [Say((*lead, "callback_confirm_number", *spoken, "callback_other_number"))]

    # --- numbers ---------------------------------------------------------------------------------------------

    def _spoken(self, e164: str) -> str:
        """As the caller would dial it: the national format for a number of the tenant's country ("601 234 567",
        "020 7183 8750"), else the international one (+44...)."""
        number = phonenumbers.parse(e164)
        if phonenumbers.region_code_for_number(number) == self.country.upper():
            national: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            return "".join(char for char in national if char.isdigit())
        return e164


def usable_number(raw: str | None, country: str) -> str | None:
    """``raw`` (a caller ID, digits typed) as E.164 if it is a valid phone number, national numbers read in
    ``country``; else None (anonymous, a SIP name, too short)."""
    if not raw:
        return None
    try:
        return normalize_phone(raw, country)
    except InvalidIdentity:
        return None
