"""Article bodies are Markdown (CommonMark and tables, by markdown-it-py) written by tenant staff: rendered to HTML
with no raw HTML passing through, links only to http(s), mailto and tel and relative addresses, opened without a
referrer, and no images (a help page loads nothing from another host); and to plain text for the index and
for snippets."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

_SAFE_LINK = re.compile(r"^(https?:|mailto:|tel:|/|#|[^:/?#]*([/?#]|$))", re.IGNORECASE)


def _link_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
    return str(self.renderToken(tokens, idx, options, env))


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").disable("image")
    md.validateLink = lambda url: bool(_SAFE_LINK.match(url.strip()))  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    return md


def to_html(body: str) -> str:
    """The body as safe HTML."""
    html: str = _md().render(body)
    return html


def to_text(body: str) -> str:
    """The body's words as plain text: no markup, links by their text, blocks separated by a blank line."""
    blocks: list[str] = []
    for token in _md().parse(body):
        if token.type == "inline" and token.children is not None:
            text = "".join(_inline_text(c) for c in token.children)
            blocks.append(text.strip())
        elif token.type in ("code_block", "fence"):
            blocks.append(token.content.strip())
    return "\n\n".join(b for b in blocks if b)


def _inline_text(token: Token) -> str:
    if token.type in ("text", "code_inline"):
        return token.content
    return " " if token.type in ("softbreak", "hardbreak") else ""
