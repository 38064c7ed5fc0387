"""Request and response shapes of the knowledge-base API (``/api/v1/kb``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from infolinia.schemas import Id, Input, Language, Output

ArticleSlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,119}$")]
CategorySlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ArticleBody = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Visibility = Literal["internal", "public"]
Status = Literal["draft", "published", "archived"]
CategoryName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
#: a name per language (at least one)
Names = Annotated[dict[Language, CategoryName], Field(min_length=1, max_length=20)]


class CategoryIn(Input):
    slug: CategorySlug
    #: the name per language, e.g. {"en": "Billing", "pl": "Rozliczenia"}
    names: Names
    position: Annotated[int, Field(ge=0, le=10_000)] = 0


class CategoryPatch(Input):
    slug: CategorySlug | None = None
    names: Names | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class CategoryOut(Output):
    id: int
    slug: str
    names: dict[str, str]
    position: int


class ArticleIn(Input):
    language: Language
    slug: ArticleSlug
    title: Title
    #: Markdown; raw HTML is shown as text, images are not shown
    body: ArticleBody
    category_id: Id | None = None
    visibility: Visibility = "internal"
    status: Status = "draft"
    tags: Annotated[list[Tag], Field(max_length=20)] = []


class ArticlePatch(Input):
    """What to change; each change saves a new version. ``note``: what changed, kept with the version."""

    slug: ArticleSlug | None = None
    title: Title | None = None
    body: ArticleBody | None = None
    category_id: Id | None = None
    visibility: Visibility | None = None
    status: Status | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    note: Note | None = None
    #: the version the editor started from: refused (409) when someone saved another since
    base_version: Annotated[int, Field(ge=1)] | None = None


class ArticleRestoreIn(Input):
    version: Annotated[int, Field(ge=1)]
    note: Note | None = None


class ArticleOut(Output):
    id: int
    language: str
    slug: str
    title: str
    category_id: int | None
    visibility: str
    status: str
    tags: list[str]
    version: int
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ArticleDetail(ArticleOut):
    body: str
    #: the body rendered to safe HTML
    html: str


class VersionOut(Output):
    version: int
    title: str
    body: str
    category_id: int | None
    visibility: str
    status: str
    tags: list[str]
    note: str | None
    author_id: int | None
    created_at: datetime


class SearchHit(Output):
    id: int
    language: str
    slug: str
    title: str
    category_id: int | None
    visibility: str
    status: str
    #: plain text around the first matching word
    snippet: str
    score: float
    #: how it was found: full-text, semantic (meaning), or both
    match: Literal["text", "semantic", "both"] = "text"


class SearchOut(Output):
    query: str
    #: the stemmed words searched for, each with its alternatives
    terms: list[list[str]]
    semantic: bool
    items: list[SearchHit]
