"""The callback number confirmation: read back, confirm, type another, invalid input and silence."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infolinia.voice.calls.callback_number import Done, NumberConfirmation, Say
from infolinia.voice.prompts import speech
from infolinia.voice.prompts.catalog import SYSTEM_NAMES

READBACK_PL = ("callback_confirm_number", *speech.digits("601234567", "pl"), "callback_other_number")


def said(steps: list[Say | Done]) -> tuple[str, ...]:
    [step] = steps
    assert isinstance(step, Say), steps
    return step.names


def typed(c: NumberConfirmation, keys: str, now: float = 0.0) -> list[Say | Done]:
    out: list[Say | Done] = []
    for key in keys:
        out += c.digit(key, now)
    return out


def test_a_caller_id_is_read_back_in_national_form_and_1_confirms_it() -> None:
    c = NumberConfirmation("+48601234567", "PL", "pl")
    assert said(c.start(0)) == READBACK_PL
    assert c.deadline is None  # nothing to wait for while the prompt plays
    c.prompt_done(10)
    assert c.deadline == 16
    assert c.digit("1", 11) == [Done("+48601234567")]
    assert c.done and c.deadline is None
    assert c.digit("1", 12) == [] and c.timeout(100) == []


def test_a_national_caller_id_and_a_foreign_one() -> None:
    assert said(NumberConfirmation("601234567", "PL", "en").start(0))[1:-1] == tuple(speech.digits("601234567", "en"))
    uk = said(NumberConfirmation("+442071838750", "PL", "en").start(0))
    assert uk[1:-1] == tuple(speech.digits("+442071838750", "en"))
    # a British number for a British tenant: read as dialled there, with the trunk 0
    assert said(NumberConfirmation("+442071838750", "GB", "en").start(0))[1:-1] == tuple(
        speech.digits("02071838750", "en")
    )


@pytest.mark.parametrize("caller", [None, "", "sipp", "anonymous", "123", "+4860"])
def test_no_usable_caller_id_asks_for_the_number_at_once(caller: str | None) -> None:
    c = NumberConfirmation(caller, "PL", "pl")
    assert said(c.start(0)) == ("callback_enter_number",)


def test_2_asks_for_another_number_which_is_read_back_and_confirmed() -> None:
    c = NumberConfirmation("+48601234567", "PL", "pl")
    c.start(0)
    assert said(c.digit("2", 1)) == ("callback_enter_number",)
    assert typed(c, "0048225551234") == []
    readback = ("callback_confirm_number", *speech.digits("225551234", "pl"), "callback_other_number")
    assert said(c.digit("#", 2)) == readback
    assert c.digit("1", 3) == [Done("+48225551234")]


def test_a_pause_after_the_last_digit_ends_the_number() -> None:
    c = NumberConfirmation(None, "PL", "en")
    c.start(0)
    c.prompt_done(5)
    assert typed(c, "601234567", now=6) == []
    assert c.deadline == 12
    assert c.timeout(11.9) == []  # not yet
    assert said(c.timeout(12))[0] == "callback_confirm_number"


def test_star_starts_the_number_again() -> None:
    c = NumberConfirmation(None, "PL", "en")
    c.start(0)
    typed(c, "999*601234567")
    assert said(c.digit("#", 1))[1:-1] == tuple(speech.digits("601234567", "en"))


def test_invalid_numbers_wrong_keys_and_silence_count_and_then_give_up() -> None:
    c = NumberConfirmation(None, "PL", "en", retries=3)
    c.start(0)
    typed(c, "123")
    assert said(c.digit("#", 1)) == ("callback_number_invalid", "callback_enter_number")
    assert said(c.digit("#", 2)) == ("callback_number_invalid", "callback_enter_number")  # nothing typed
    typed(c, "601234567#")
    assert said(c.digit("5", 3))[0] == "invalid"  # neither 1 nor 2: the third failure, repeated
    c.prompt_done(4)
    assert c.timeout(10) == [Done(None)]


def test_silence_on_the_read_back_repeats_it() -> None:
    c = NumberConfirmation("+48601234567", "PL", "pl", retries=1)
    c.start(0)
    c.prompt_done(1)
    assert said(c.timeout(7)) == ("no_input", *READBACK_PL)
    c.prompt_done(8)
    assert c.timeout(14) == [Done(None)]


def test_too_many_digits_is_an_invalid_number() -> None:
    c = NumberConfirmation(None, "PL", "en")
    c.start(0)
    assert typed(c, "1" * 16) == []
    assert said(c.digit("1", 0)) == ("callback_number_invalid", "callback_enter_number")


def test_every_prompt_it_plays_exists() -> None:
    c = NumberConfirmation(None, "PL", "pl", retries=9)
    names = set(said(c.start(0)))
    for keys in ("12#", "#", "601234567#", "7", "2", "00442071838750#"):
        for step in typed(c, keys):
            names |= set(said([step]))
    c.prompt_done(1)
    names |= set(said(c.timeout(100)))
    assert "no_input" in names and "invalid" in names and "callback_number_invalid" in names
    assert names <= SYSTEM_NAMES, names - SYSTEM_NAMES


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from("0123456789*#ABCD"), st.just("timeout"), st.just("done")), max_size=60))
def test_any_input_ends_with_a_valid_number_or_none_and_never_after_done(keys: list[str]) -> None:
    c = NumberConfirmation("+48601234567", "PL", "en", retries=3)
    steps = c.start(0)
    now = 0.0
    for key in keys:
        now += 1
        if key == "timeout":
            steps += c.timeout(c.deadline if c.deadline is not None else now)
        elif key == "done":
            steps += c.prompt_done(now)
        else:
            steps += c.digit(key, now)
    finished = [s for s in steps if isinstance(s, Done)]
    assert len(finished) <= 1
    if finished:
        assert steps[-1] == finished[0] and c.done
        number = finished[0].number
        assert number is None or (number.startswith("+") and number[1:].isdigit())
    for step in steps:
        if isinstance(step, Say):
            assert set(step.names) <= SYSTEM_NAMES
