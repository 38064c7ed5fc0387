"""Reading an e-mail, pure: the bytes as received in, what the contact center needs out (sender, subject,
threading headers, the text, the attachments, a delivery report's verdict). Built on the standard ``email``
package with ``email.policy.default``. Nothing here raises on bad input: what cannot be read as it should is read
as well as it can be and named in ``problems``."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

from infolinia.channels.email import html

#: at most this many Message-IDs are kept from a References header (the newest)
MAX_REFERENCES = 50
MAX_ID_LENGTH = 500
_MSG_ID = re.compile(r"<([^<>\s]{1,998})>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: charsets tried, in order, for header bytes that are not ASCII and declare nothing (RFC 6532 says UTF-8)
_HEADER_FALLBACKS = ("utf-8", "windows-1250", "latin-1")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Report:
    """A delivery status notification (RFC 3464): which message it is about, and what happened to it."""

    original_message_id: str | None
    action: str  # failed, delayed, delivered, relayed, expanded (the worst one given)
    status: str | None  # e.g. 5.1.1
    diagnostic: str | None
    recipient: str | None

    @property
    def failed(self) -> bool:
        return self.action == "failed"


@dataclass
class Parsed:
    message_id: str | None = None
    from_address: str | None = None  # lower-case addr-spec
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    subject: str = ""
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    body: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    auto_submitted: bool = False  # an automatic message (auto-reply, list, bulk): never answered automatically
    report: Report | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def threading_ids(self) -> list[str]:
        """The Message-IDs this one answers, the most direct first (In-Reply-To, then References newest first)."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        return list(dict.fromkeys([*ids, *reversed(self.references)]))


def message_key(raw: bytes, parsed: Parsed) -> str:
    """What makes the message the same message when it arrives again: its Message-ID, or (without one, or with
    one too long to keep) a hash of its bytes."""
    if parsed.message_id and len(parsed.message_id) <= MAX_ID_LENGTH:
        return parsed.message_id
    return f"sha256-{hashlib.sha256(raw).hexdigest()}@infolinia.invalid"


def msg_ids(value: str) -> list[str]:
    """The ``<id>`` tokens of a Message-ID, In-Reply-To or References header, in order, without brackets."""
    return _MSG_ID.findall(value)


def parse(raw: bytes) -> Parsed:
    """Read ``raw`` (the message as received, headers and body)."""
    out = Parsed()
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:  # the parser is lenient; anything it still refuses leaves the raw bytes to read
        out.problems.append(f"unreadable message: {exc.__class__.__name__}")
        out.body = _decode_bytes(raw, None, out).replace("\x00", "")
        return out
    reader = _Reader(msg, out)
    reader.headers()
    reader.content()
    return out


class _Reader:
    def __init__(self, msg: Message, out: Parsed) -> None:
        self.msg = msg
        self.out = out
        self.texts: list[str] = []

    def header(self, name: str, msg: Message | None = None) -> str:
        """One header's value as text: decoded (RFC 2047, RFC 6532), or raw when it does not parse."""
        msg = msg if msg is not None else self.msg
        raw = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
        if isinstance(raw, str) and any("\udc80" <= ch <= "\udcff" for ch in raw):  # 8-bit bytes, undeclared
            return " ".join(_fix_surrogates(raw).split())
        try:
            value = msg.get(name)
            text = "" if value is None else str(value)
        except Exception:
            self.out.problems.append(f"malformed {name} header")
            text = next((str(v) for k, v in msg.raw_items() if k.lower() == name.lower()), "")
        return _fix_surrogates(text).strip()

    def headers(self) -> None:
        out = self.out
        ids = msg_ids(self.header("Message-ID"))
        out.message_id = ids[0] if ids else None
        name, address = parseaddr(self.header("From"))
        out.from_name = _CONTROL.sub("", name)[:200]
        out.from_address = address.strip().lower()[:254] or None
        out.to = [a.lower()[:254] for _, a in getaddresses([self.header("To"), self.header("Cc")]) if a][:50]
        out.subject = _CONTROL.sub("", " ".join(self.header("Subject").split()))[:500]
        reply = msg_ids(self.header("In-Reply-To"))
        out.in_reply_to = reply[0] if reply and len(reply[0]) <= MAX_ID_LENGTH else None
        refs = [r for r in msg_ids(self.header("References")) if len(r) <= MAX_ID_LENGTH]
        out.references = refs[-MAX_REFERENCES:]
        auto = self.header("Auto-Submitted").lower()
        precedence = self.header("Precedence").lower()
        out.auto_submitted = bool(
            (auto and auto != "no") or precedence in ("bulk", "junk", "list") or self.header("List-Id")
        )
        if self.msg.defects:
            out.problems.extend(sorted({d.__class__.__name__ for d in self.msg.defects}))

    def content(self) -> None:
        if self.msg.get_content_type() == "multipart/report":
            self.out.report = _report(self.msg)
            self.out.auto_submitted = True
        self.walk(self.msg)
        self.out.body = "\n\n".join(t for t in self.texts if t.strip()).replace("\x00", "").strip()

    def walk(self, part: Message) -> None:
        kind = part.get_content_type()
        disposition = _disposition(part)
        if part.is_multipart() and kind.startswith("multipart/"):
            children = [p for p in _children(part) if isinstance(p, Message)]
            if kind == "multipart/alternative" and children:
                self.walk(_preferred(children))
                for child in children:  # files hung in an alternative are still files
                    if child is not _preferred(children) and _disposition(child) == "attachment":
                        self.walk(child)
                return
            for child in children:
                self.walk(child)
            return
        if kind in ("message/delivery-status", "text/rfc822-headers") or (
            kind == "message/rfc822" and self.out.report is not None
        ):
            return  # the report's machine-readable parts, read by ``_report``
        if kind in ("text/plain", "text/html") and disposition != "attachment" and part.get_filename() is None:
            text = _text_of(part, self.out)
            self.texts.append(html.to_text(text) if kind == "text/html" else text)
            return
        self.attachment(part, kind)

    def attachment(self, part: Message, kind: str) -> None:
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            data = _message_bytes(inner, self.out) if isinstance(inner, Message) else b""
        else:
            try:
                decoded = part.get_payload(decode=True)
            except Exception:
                decoded = None
                self.out.problems.append("undecodable attachment")
            data = decoded if isinstance(decoded, bytes) else b""
        position = len(self.out.attachments) + 1
        self.out.attachments.append(Attachment(_filename(part, position, kind), kind, data))


def _message_bytes(inner: Message, out: Parsed) -> bytes:
    """An attached message written back as bytes; the generator refuses some broken ones (undecodable bytes in a
    multipart preamble), which are then kept as text with the bytes escaped, or left out with a problem noted."""
    try:
        return inner.as_bytes()
    except Exception:
        pass
    try:
        return inner.as_string().encode("utf-8", "surrogateescape")
    except Exception:
        out.problems.append("unreadable attached message")
        return b""


def _children(part: Message) -> list[object]:
    payload = part.get_payload()
    return list(payload) if isinstance(payload, list) else []


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _preferred(children: list[Message]) -> Message:
    """Of a multipart/alternative: the plain text if there is one, else the richest (last) part."""
    for child in children:
        if child.get_content_type() == "text/plain":
            return child
    return children[-1]


def _text_of(part: Message, out: Parsed) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        out.problems.append("undecodable text part")
        return ""
    if not isinstance(data, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return _decode_bytes(data, charset, out)


def _decode_bytes(data: bytes, charset: str | None, out: Parsed) -> str:
    """``data`` as text: in its declared charset, else UTF-8, else Windows-1250; never fails (U+FFFD for what
    does not decode)."""
    tried: list[str] = []
    for candidate in (charset, "utf-8", "windows-1250"):
        if not candidate or candidate in tried:
            continue
        tried.append(candidate)
        try:
            return data.decode(candidate)
        except LookupError:
            out.problems.append(f"unknown charset {candidate[:40]}")
        except UnicodeDecodeError:
            continue
    out.problems.append("text not valid in its charset")
    return data.decode(charset if charset and _known(charset) else "utf-8", errors="replace")


def _known(charset: str) -> bool:
    try:
        b"".decode(charset)
    except LookupError:
        return False
    return True


def _fix_surrogates(text: str) -> str:
    """Header bytes that were not ASCII (raw 8-bit, RFC 6532 or a sender's mistake) as text."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    for charset in _HEADER_FALLBACKS:
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")  # pragma: no cover - latin-1 decodes everything


def _filename(part: Message, position: int, kind: str) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = _CONTROL.sub("", _fix_surrogates(name)).replace("\\", "/").rsplit("/", 1)[-1].strip(" .")
    if not name:
        extension = {"message/rfc822": ".eml", "text/plain": ".txt", "text/html": ".html"}.get(kind, ".bin")
        name = f"attachment-{position}{extension}"
    return name[-200:]


def _report(msg: Message) -> Report | None:
    """The delivery report's verdict, from its message/delivery-status part and the original's headers."""
    action, status, diagnostic, recipient, original = "", None, None, None, None
    order = {"failed": 0, "delayed": 1, "relayed": 2, "expanded": 3, "delivered": 4}
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in _children(part):
                if not isinstance(block, Message):
                    continue
                found = str(block.get("Action", "") or "").strip().lower()
                if found and (not action or order.get(found, 9) < order.get(action, 9)):
                    action = found
                    status = str(block.get("Status", "") or "").strip()[:20] or None
                    diagnostic = " ".join(str(block.get("Diagnostic-Code", "") or "").split())[:500] or None
                    recipient = str(block.get("Final-Recipient", "") or "").split(";")[-1].strip()[:254] or None
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = _original_id(part)
    if not action and original is None:
        return None
    return Report(original, action or "unknown", status, diagnostic, recipient)


def _original_id(part: Message) -> str | None:
    headers: Message | None
    if part.get_content_type() == "message/rfc822":
        payload = _children(part)
        headers = payload[0] if payload and isinstance(payload[0], Message) else None
    else:
        try:
            text = part.get_content() if isinstance(part, EmailMessage) else str(part.get_payload())
        except Exception:
            text = str(part.get_payload())
        headers = email.message_from_string(str(text), policy=email.policy.default)
    if headers is None:
        return None
    try:
        ids = msg_ids(str(headers.get("Message-ID", "") or ""))
    except Exception:
        return None
    return ids[0] if ids else None
