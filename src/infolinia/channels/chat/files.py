"""Files sent in a chat, pure checks and a store: the type is read from the content (magic numbers; text must be
UTF-8 without control characters), never from the name or the header the sender gave; the file is kept under the
data folder by tenant and content hash, with a name of ours."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "application/pdf": ".pdf",
              "text/plain": ".txt"}  # fmt: skip
_UNSAFE = re.compile(r"[^\w .()+-]+")


class FileRefused(ValueError):
    """A file the chat does not take: ``code`` says why (``file_too_large``, ``file_type``, ``file_empty``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def sniff(data: bytes) -> str | None:
    """The file's type by its content, or None when it is none of those a chat takes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
        return None
    return "text/plain"


def safe_name(name: str, content_type: str) -> str:
    """The name to show and offer for download: no path, no control or odd characters, the type's extension."""
    base = _UNSAFE.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")[:120] or "file"
    ext = EXTENSIONS[content_type]
    return base if base.lower().endswith(ext) else base + ext


def check(data: bytes, allowed: list[str], max_bytes: int) -> str:
    """The content type of an acceptable file, else FileRefused."""
    if not data:
        raise FileRefused("file_empty", "the file is empty")
    if len(data) > max_bytes:
        raise FileRefused("file_too_large", f"the file is larger than {max_bytes} bytes")
    kind = sniff(data)
    if kind is None or kind not in allowed:
        raise FileRefused("file_type", "this kind of file is not accepted (accepted: " + ", ".join(allowed) + ")")
    return kind


@dataclass(frozen=True)
class Kept:
    path: str  # relative to the data folder
    sha256: str


class FileStore:
    def __init__(self, data_dir: str) -> None:
        self.root = Path(data_dir)

    def keep(self, tenant_id: int, data: bytes, content_type: str) -> Kept:
        digest = hashlib.sha256(data).hexdigest()
        relative = f"chat/{tenant_id}/{digest}{EXTENSIONS[content_type]}"
        target = self.root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_suffix(".part")
            temporary.write_bytes(data)
            temporary.replace(target)
        return Kept(relative, digest)

    def path(self, relative: str) -> Path:
        return self.root / relative
