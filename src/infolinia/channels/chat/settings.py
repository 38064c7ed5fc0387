"""A tenant's chat settings (``tenants.chat_settings``), pure: whether the widget is on, its public key, the origins
(sites) that may embed it, the topics of the pre-chat form and the queue each one waits in, the idle timeout and the
file limits."""

from __future__ import annotations

import secrets
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from infolinia.schemas import Id

Topic = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
WidgetKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]


def _origin(value: str) -> str:
    """``scheme://host[:port]``, lower case, no path: what a browser sends as ``Origin``."""
    value = value.strip().lower().rstrip("/")
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("http", "https") or not rest or any(c in rest for c in "/?#@ "):
        raise ValueError(f"not an origin (scheme://host[:port]): {value!r}")
    return value


Origin = Annotated[str, StringConstraints(max_length=300), AfterValidator(_origin)]
#: file types a chat takes (checked by their content, ``files.py``)
#: the largest file a tenant may allow
MAX_FILE_BYTES = 26_214_400
FILE_TYPES = ("image/png", "image/jpeg", "image/gif", "application/pdf", "text/plain")


def new_widget_key() -> str:
    return secrets.token_urlsafe(24)


class ChatSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    #: the key the embedding page names in ``data-key``: public (it is in the page), it only finds the tenant
    widget_key: WidgetKey | None = None
    #: the sites that may embed the widget; a page elsewhere is refused
    allowed_origins: list[Origin] = Field(default_factory=list, max_length=50)
    #: topic -> the queue its chats wait in; the first is the default
    topics: dict[Topic, Id] = Field(default_factory=dict, max_length=20)
    #: a chat nobody wrote in for this long ends (``idle``)
    idle_timeout_s: int = Field(900, ge=5, le=86_400)
    max_file_bytes: int = Field(5_242_880, ge=1024, le=MAX_FILE_BYTES)
    #: a customer's socket may send this many lines a second on average, ``lines_burst`` at once; a line beyond is
    #: refused (``rate_limited``, with the seconds to wait) and the socket stays
    lines_per_s: int = Field(2, ge=1, le=50)
    lines_burst: int = Field(20, ge=1, le=200)
    file_types: list[str] = Field(default_factory=lambda: list(FILE_TYPES))

    @classmethod
    def of(cls, stored: dict[str, object] | None) -> ChatSettings:
        """The stored settings; a row edited into something invalid reads as chat switched off."""
        try:
            return cls.model_validate(stored or {})
        except ValidationError:
            return cls()
