"""Request and response shapes of the e-mail API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from infolinia.channels.email.settings import Address, EmailSettings, Host
from infolinia.schemas import Id, Input, Output

Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class ReplyIn(Input):
    #: what the agent writes to the customer (the case-number footer is added in the customer's language)
    body: Body


class AttachmentOut(Output):
    id: int
    position: int
    filename: str
    content_type: str
    size: int
    sha256: str
    #: false: described only (``refused`` says why); true: ``GET /email-attachments/{id}`` gives the file
    kept: bool = False
    refused: str | None


class EmailOut(Output):
    id: int
    direction: Literal["in", "out"]
    #: in: received, processed, report, bounce, error; out: pending, sent, failed, bounced
    status: str
    message_id: str
    mail_from: str | None
    from_address: str | None
    to_address: str | None
    subject: str | None
    in_reply_to: str | None
    reference_ids: list[str]
    body: str | None
    problems: list[str]
    case_id: int | None
    customer_id: int | None
    interaction_id: int | None
    author_id: int | None
    bounce_of_id: int | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    done_at: datetime | None
    attachments: list[AttachmentOut] = Field(default_factory=list)


class RelayIn(Input):
    host: Host
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: Annotated[str, StringConstraints(max_length=254)] | None = None
    #: left out: the stored one is kept (when the relay had one); null or "": none
    password: Annotated[str, StringConstraints(max_length=500)] | None = None
    timeout_s: float = Field(30.0, gt=0, le=300)


class RelayOut(Output):
    host: str
    port: int
    security: str
    username: str | None
    password_set: bool
    timeout_s: float


class EmailSettingsPatch(Input):
    """Only the fields given change."""

    #: the addresses the SMTP listener takes mail for, for this tenant (replaces the list)
    addresses: list[Address] | None = Field(None, max_length=20)
    from_address: Address | None = None
    from_name: Annotated[str, StringConstraints(max_length=200)] | None = None
    queue_id: Id | None = None
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = None
    auto_acknowledge: bool | None = None
    #: null: no relay (nothing can be sent)
    relay: RelayIn | None = None


class EmailSettingsOut(Output):
    addresses: list[str]
    from_address: str | None
    from_name: str | None
    queue_id: int | None
    category: str | None
    auto_acknowledge: bool
    relay: RelayOut | None

    @classmethod
    def of(cls, settings: EmailSettings, addresses: list[str]) -> EmailSettingsOut:
        relay = settings.relay
        return cls(
            addresses=addresses, from_address=settings.from_address, from_name=settings.from_name,
            queue_id=settings.queue_id, category=settings.category, auto_acknowledge=settings.auto_acknowledge,
            relay=None if relay is None else RelayOut(
                host=relay.host, port=relay.port, security=relay.security, username=relay.username,
                password_set=bool(relay.password), timeout_s=relay.timeout_s,
            ),
        )  # fmt: skip
