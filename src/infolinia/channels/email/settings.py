"""A tenant's e-mail settings (``tenants.email_settings``), pure: where its mail goes out (the SMTP relay), who it
comes from, which queue inbound mail waits in, the category of the cases it opens, and the automatic
acknowledgement. The relay's password is write-only: it is stored to log in to the relay and never shown."""

from __future__ import annotations

from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from infolinia.schemas import Id

HOST = r"^[A-Za-z0-9.:\-\[\]]+$"
Host = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=253, pattern=HOST)]


def _address(value: str) -> str:
    try:
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(f"not an e-mail address: {exc}") from None
    return checked.normalized.lower()


#: an e-mail address of the tenant's own (``.test`` domains allowed, for demos and tests), lower-case
Address = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_address)]
Secret = Annotated[str, StringConstraints(max_length=500)]


class Relay(BaseModel):
    """The SMTP server the tenant's replies are handed to."""

    model_config = ConfigDict(extra="forbid")

    host: Host
    port: int = Field(587, ge=1, le=65535)
    #: ``starttls`` (port 587), ``tls`` (implicit TLS, port 465) or ``none`` (a relay on a trusted network)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: Annotated[str, StringConstraints(max_length=254)] | None = None
    password: Secret | None = None
    timeout_s: float = Field(30.0, gt=0, le=300)


class EmailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the address replies come from (and bounces come back to); without one, the first inbound address
    from_address: Address | None = None
    from_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    #: the queue inbound e-mail waits in as a routing task (none: cases are filed, nothing is routed)
    queue_id: Id | None = None
    #: the category of a case an e-mail opens (none: ``question`` when the tenant has it, else its first)
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = None
    #: answer a new case's first e-mail with its number (never an automatic message, a report or a list's mail)
    auto_acknowledge: bool = False
    relay: Relay | None = None

    @classmethod
    def of(cls, stored: dict[str, object] | None) -> EmailSettings:
        """The stored settings; a row edited into something invalid reads as none at all."""
        try:
            return cls.model_validate(stored or {})
        except ValidationError:
            return cls()
