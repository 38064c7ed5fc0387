"""The knowledge base's words: stems per language, folding, query expressions that cannot be broken out of, safe
Markdown, snippets."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from infolinia.kb import markup, text


def test_polish_inflected_forms_share_a_stem() -> None:
    for forms in (("reklamacja", "reklamacji", "reklamację", "reklamacją"), ("faktura", "faktury", "fakturę"),
                  ("płatność", "płatności"), ("termin", "terminy", "terminów")):  # fmt: skip
        assert len({text.stem(w, "pl") for w in forms}) == 1, forms


def test_english_inflected_forms_share_a_stem() -> None:
    for forms in (("invoice", "invoices", "invoiced"), ("complaint", "complaints"), ("deadline", "deadlines")):
        assert len({text.stem(w, "en") for w in forms}) == 1, forms


def test_folding_drops_diacritics_and_case() -> None:
    assert text.fold("Płatność") == "platnosc"
    assert text.fold("ŻÓŁĆ") == "zolc"
    assert text.stem("Reklamacji".lower(), "pl") == text.stem("reklamacji", "pl")


def test_languages_without_a_stemmer_are_folded_only_and_regional_codes_use_their_base() -> None:
    assert text.stem("kočky", "xx") == "kocky"
    assert text.stem("invoices", "en-GB") == text.stem("invoice", "en")


def test_index_terms_are_plain_words() -> None:
    terms = text.index_terms("Faktura VAT: termin płatności 14 dni!", "pl")
    assert re.fullmatch(r"[a-z0-9 ]+", terms)
    assert terms.split()[0] == text.stem("faktura", "pl") and "14" in terms.split()


def test_a_query_word_has_its_stem_in_each_language_searched() -> None:
    terms = text.query_terms("Faktury invoices faktury", ["pl", "en"])
    assert len(terms) == 2  # the repeated word once
    assert text.stem("faktury", "pl") in terms[0]
    assert text.stem("invoices", "en") in terms[1]
    assert text.query_terms("!!! ...", ["pl"]) == []
    assert len(text.query_terms(" ".join(f"w{i}" for i in range(50)), ["en"])) == text.MAX_QUERY_WORDS


@given(st.text(max_size=200))
def test_any_query_gives_expressions_of_plain_quoted_words(query: str) -> None:
    terms = text.query_terms(query, ["pl", "en", "ru"])
    fts = text.fts5_query(terms, prefix_last=True)
    tsq = text.tsquery(terms, prefix_last=True)
    assert re.fullmatch(r'(\((("[a-z0-9]+"\*?)( OR "[a-z0-9]+"\*?)*)\)( AND )?)*', fts), fts
    assert re.fullmatch(r"(\(([a-z0-9]+(:\*)?)( \| [a-z0-9]+(:\*)?)*\)( & )?)*", tsq), tsq


def test_markdown_renders_without_raw_html_scripts_or_images() -> None:
    html = markup.to_html(
        "<script>alert(1)</script>\n\n[x](javascript:alert(1)) [ok](https://example.com/a) "
        "![pixel](https://tracker.example/p.png) <img src=x onerror=alert(1)>"
    )
    assert "<script" not in html and "<img" not in html and "javascript:" not in html.split("[x]")[0]
    assert '<a href="https://example.com/a" rel="nofollow noopener noreferrer">ok</a>' in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def test_plain_text_of_markdown() -> None:
    body = "# Title\n\nFirst line\nsecond **bold** `code` [link](https://x.example)\n\n- one\n- two"
    assert markup.to_text(body) == "Title\n\nFirst line second bold code link\n\none\n\ntwo"


def test_snippet_is_around_the_first_match() -> None:
    body = "Wstęp. " * 60 + "Reklamację rozpatrujemy w ciągu 14 dni. " + "Koniec. " * 60
    terms = text.query_terms("reklamacja", ["pl"])
    cut = text.snippet(body, terms, "pl", width=120)
    assert "Reklamację" in cut and cut.startswith("…") and cut.endswith("…") and len(cut) <= 122
    assert text.snippet("short", terms, "pl") == "short"
    assert text.snippet(body, [], "pl", width=50).startswith("Wstęp")
