"""The forms a dialled number (an INVITE's Request-URI user part) is looked up by."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infolinia.voice.telephony.dialed import MAX_DIGITS, MAX_TEXT, Dialed, dialed

DEMO = Dialed(e164=("+48800100200",), national=())
DEMO_NATIONAL = Dialed(e164=("+800100200",), national=("800100200",))
DEMO_WITHOUT_PLUS = Dialed(e164=("+48800100200",), national=("48800100200",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("800100200", DEMO_NATIONAL),
        ("+48800100200", DEMO),
        ("48800100200", DEMO_WITHOUT_PLUS),
        ("0048800100200", DEMO),
        ("%2B48800100200", DEMO),
        ("%2b48800100200", DEMO),
        ("+48 800 100 200", DEMO),
        ("+48-800-100-200", DEMO),
        ("(800) 100-200", DEMO_NATIONAL),
        ("800.100.200", DEMO_NATIONAL),
        ("800%20100%20200", DEMO_NATIONAL),
        ("00 48 800 100 200", DEMO),
        ("  +48800100200  ", DEMO),
        # what is left of a whole URI
        ("sip:800100200@127.0.0.1", DEMO_NATIONAL),
        ("sip:+48800100200@infolinia.test:5060;transport=udp", DEMO),
        ("SIPS:+48800100200@host", DEMO),
        ("tel:+48800100200", DEMO),
        ("+48800100200;user=phone", DEMO),
        ("800100200;phone-context=+48", DEMO_NATIONAL),
        ("800100200?subject=x", DEMO_NATIONAL),
        ("800100200@host", DEMO_NATIONAL),
        ("sip:800100200", DEMO_NATIONAL),
    ],
)
def test_every_form_of_the_demo_number(text: str, expected: Dialed) -> None:
    assert dialed(text) == expected


def test_a_leading_zero_is_a_trunk_prefix_or_part_of_the_number() -> None:
    # 0800 100 300 in the UK is national 800100300; in Italy 06 ... keeps its zero: both forms are tried
    assert dialed("0800 100 300") == Dialed(e164=(), national=("0800100300", "800100300"))
    assert dialed("0612345678") == Dialed(e164=(), national=("0612345678", "612345678"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "0",
        "+",
        "00",
        "support",
        "80010020a",
        "800 100 200 x",
        "\uff18\uff10\uff10\uff11\uff10\uff10\uff12\uff10\uff10",  # fullwidth digits
        "++48800100200",
        "48+800100200",
        "+48800100200+",
        "+0048800100200",  # a country code never starts with 0
        "000048800100200",
        "800\t100\t200",
        "800_100_200",
        "800/100/200",
        "800\x00100200",
        "%2",
        "%zz800100200",
        "%2B%2B48800100200",
        "%00800100200",
        "sip:",
        "sip:@host",
        "sip:alice@host",
    ],
)
def test_garbage_is_no_number(text: str) -> None:
    assert dialed(text) is None


def test_length_limits() -> None:
    assert dialed("1" * MAX_DIGITS) == Dialed(e164=("+" + "1" * MAX_DIGITS,), national=("1" * MAX_DIGITS,))
    assert dialed("1" * (MAX_DIGITS + 1)) is None
    assert dialed("+" + "1" * MAX_DIGITS) is not None
    assert dialed("+" + "1" * (MAX_DIGITS + 1)) is None
    assert dialed("00" + "1" * MAX_DIGITS) is not None
    assert dialed("00" + "1" * (MAX_DIGITS + 1)) is None
    assert dialed("0" + "1" * (MAX_DIGITS - 1)) is not None
    assert dialed("0" + "1" * MAX_DIGITS) is None
    # a long text is refused unread, even when separators would make it short
    spaced = " ".join("48800100200")
    assert len(spaced) < MAX_TEXT and dialed(spaced) == DEMO_WITHOUT_PLUS
    assert dialed("+48800100200" + " " * (MAX_TEXT - 12)) == DEMO
    assert dialed("+48800100200" + " " * (MAX_TEXT - 11)) is None
    assert dialed("9" * 10_000) is None


@given(st.text(max_size=80))
def test_any_text_gives_none_or_well_formed_forms(text: str) -> None:
    forms = dialed(text)
    if forms is None:
        return
    for form in forms.e164:
        assert form[0] == "+" and form[1:].isdigit() and form[1:].isascii() and form[1] != "0"
        assert len(form) <= MAX_DIGITS + 1
    for form in forms.national:
        assert form.isdigit() and form.isascii() and 1 <= len(form) <= MAX_DIGITS
    assert forms.e164 or forms.national


@given(
    st.from_regex(r"[1-9][0-9]{5,12}", fullmatch=True),
    st.lists(st.sampled_from(["-", ".", " ", "(", ")", "%20"]), min_size=1, max_size=6),
    st.data(),
)
def test_visual_separators_do_not_change_the_number(digits: str, separators: list[str], data: st.DataObject) -> None:
    spaced = list(digits)
    for separator in separators:
        spaced.insert(data.draw(st.integers(0, len(spaced))), separator)
    for prefix in ("", "+", "%2B", "00"):
        assert dialed(prefix + "".join(spaced)) == dialed(prefix + digits)
