"""Writing an e-mail to a customer, pure: the headers that thread it (Message-ID, In-Reply-To, References), the
subject with the case tag, and the words the system adds in the customer's language (the case-number footer of a
reply, the automatic acknowledgement)."""

from __future__ import annotations

import email.policy
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

#: the system's words per language; a language without its own uses English
TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "footer": "Case number: {number}. Please keep [#{number}] in the subject when you reply.",
        "ack_subject": "We have received your message: {subject}",
        "ack_body": (
            "Thank you for your message. We have registered it as case number {number} and will answer as soon as "
            "we can.\n\nPlease keep [#{number}] in the subject when you write to us about it."
        ),
    },
    "pl": {
        "footer": "Numer sprawy: {number}. Odpowiadając, prosimy zachować [#{number}] w temacie.",
        "ack_subject": "Otrzymaliśmy Twoją wiadomość: {subject}",
        "ack_body": (
            "Dziękujemy za wiadomość. Zarejestrowaliśmy ją jako sprawę numer {number} i odpowiemy najszybciej, "
            "jak to możliwe.\n\nPisząc do nas w tej sprawie, prosimy zachować [#{number}] w temacie."
        ),
    },
}


def words(language: str | None) -> dict[str, str]:
    """The templates of ``language`` (``pl``, ``pl-PL``, ...), else English."""
    base = (language or "en").split("-")[0].lower()
    return TEMPLATES.get(base, TEMPLATES["en"])


def footer(language: str | None, number: int) -> str:
    return words(language)["footer"].format(number=number)


def acknowledgement(language: str | None, number: int, subject: str) -> tuple[str, str]:
    """The automatic acknowledgement's subject (without the tag) and body."""
    w = words(language)
    return w["ack_subject"].format(subject=subject or "-"), w["ack_body"].format(number=number)


@dataclass(frozen=True)
class Outgoing:
    from_address: str
    from_name: str
    to: str
    subject: str
    body: str
    message_id: str  # without angle brackets
    date: datetime
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    language: str | None = None


def render(out: Outgoing) -> bytes:
    """The message as sent (CRLF line ends, UTF-8 text, headers encoded as needed)."""
    msg = EmailMessage(policy=email.policy.SMTP)
    local, _, domain = out.from_address.partition("@")
    msg["From"] = Address(out.from_name, local, domain)
    msg["To"] = out.to
    msg["Subject"] = out.subject
    msg["Date"] = format_datetime(out.date)
    msg["Message-ID"] = f"<{out.message_id}>"
    if out.in_reply_to:
        msg["In-Reply-To"] = f"<{out.in_reply_to}>"
    if out.references:
        msg["References"] = " ".join(f"<{ref}>" for ref in out.references)
    msg["Auto-Submitted"] = "no"
    msg.set_content(out.body, cte="quoted-printable")  # 7-bit: any relay takes it
    if out.language:
        msg["Content-Language"] = out.language
    return msg.as_bytes()
