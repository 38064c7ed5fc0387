"""Words for the knowledge base's full-text index: split, stem by the article's language (Snowball), fold.

Both databases index the same stemmed words, so "reklamacji" finds "reklamacja" and "invoices" finds "invoice" on
SQLite (FTS5) and PostgreSQL (``tsvector`` of the ``simple`` configuration) alike; PostgreSQL has no Polish stemmer
of its own. After stemming, letters are folded to ASCII (``płatność`` and ``platnosc`` meet) and lower-cased, so a
stored word is ``[a-z0-9]+`` only and can go into either database's query syntax without escaping.

A query word becomes one alternative per language the search covers (its stem in each); a word matches when any
alternative does, and every word of the query must match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Final

import snowballstemmer

#: language code -> Snowball algorithm. Slovak has none of its own; Czech's is the nearest.
ALGORITHMS: Final = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "et": "estonian", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish",
    "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "nb": "norwegian", "nl": "dutch", "no": "norwegian", "pl": "polish", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sk": "czech", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}  # fmt: skip

MAX_WORD: Final = 40  # longer "words" are not language (hashes, base64): indexed cut to this length
MAX_QUERY_WORDS: Final = 12
_WORD = re.compile(r"\w+", re.UNICODE)
_FOLD = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "\u0131": "i"})


def base_language(language: str) -> str:
    """``pl-PL`` -> ``pl``."""
    return language.split("-", 1)[0].lower()


@lru_cache(maxsize=64)
def _stemmer(language: str) -> snowballstemmer.Stemmer | None:
    algorithm = ALGORITHMS.get(base_language(language))
    return snowballstemmer.stemmer(algorithm) if algorithm else None


def fold(word: str) -> str:
    """Lower case, no diacritics, ASCII letters and digits only (``Płatność`` -> ``platnosc``)."""
    decomposed = unicodedata.normalize("NFKD", word.lower().translate(_FOLD)).lower()
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


def words(text: str) -> list[str]:
    """The text's words, lower-cased, in order."""
    return [w.lower() for w in _WORD.findall(text) if w.strip("_")]


def stem(word: str, language: str) -> str:
    """The folded stem of one lower-case word in ``language`` (folded only, for a language Snowball lacks)."""
    stemmer = _stemmer(language)
    stemmed = stemmer.stemWord(word) if stemmer is not None and not word.isdigit() else word
    return fold(stemmed)[:MAX_WORD] or fold(word)[:MAX_WORD]


def index_terms(text: str, language: str) -> str:
    """What the index stores for ``text``: its folded stems, space-separated."""
    return " ".join(t for t in (stem(w, language) for w in words(text)) if t)


def query_terms(text: str, languages: Iterable[str]) -> list[list[str]]:
    """A query's words, each as its alternatives (its stem in each language, de-duplicated); at most
    ``MAX_QUERY_WORDS`` words, and none repeated."""
    langs = list(dict.fromkeys(base_language(lang) for lang in languages)) or ["en"]
    out: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for word in words(text):
        alternatives = list(dict.fromkeys(t for t in (stem(word, lang) for lang in langs) if t))
        key = tuple(sorted(alternatives))
        if alternatives and key not in seen:
            seen.add(key)
            out.append(alternatives)
        if len(out) == MAX_QUERY_WORDS:
            break
    return out


def fts5_query(terms: Sequence[Sequence[str]], prefix_last: bool = False) -> str:
    """The SQLite FTS5 MATCH expression: every word, any of its alternatives; ``prefix_last``: the last word may
    be the start of a longer one (search as you type)."""
    groups = []
    for i, alternatives in enumerate(terms):
        star = "*" if prefix_last and i == len(terms) - 1 else ""
        groups.append("(" + " OR ".join(f'"{a}"{star}' for a in alternatives) + ")")
    return " AND ".join(groups)


def tsquery(terms: Sequence[Sequence[str]], prefix_last: bool = False) -> str:
    """The PostgreSQL ``to_tsquery('simple', …)`` expression of the same meaning."""
    groups = []
    for i, alternatives in enumerate(terms):
        star = ":*" if prefix_last and i == len(terms) - 1 else ""
        groups.append("(" + " | ".join(f"{a}{star}" for a in alternatives) + ")")
    return " & ".join(groups)


def snippet(text: str, terms: Sequence[Sequence[str]], language: str, width: int = 200) -> str:
    """About ``width`` characters of ``text`` (plain text) around its first word that matches the query, or its
    start; "…" where it was cut."""
    if len(text) <= width:
        return text
    wanted = {a for alternatives in terms for a in alternatives}
    start = 0
    for match in _WORD.finditer(text):
        term = stem(match.group().lower(), language)
        if term in wanted or any(term.startswith(a) for a in wanted if len(a) >= 3):
            start = max(0, match.start() - width // 4)
            break
    if start:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space > start - 20 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
