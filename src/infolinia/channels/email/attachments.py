"""Keeping the files that come with inbound e-mail: under ``<data dir>/email/<tenant>/<message>/<position>``,
written to a temporary name, flushed to disk and renamed, so a file named in the database is whole. The name the
sender gave is kept only in the database; what is not allowed (too big, a type that runs code) is described but not
kept."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from infolinia.channels.email.mime import Attachment

#: file name endings and types that run code when opened: never kept
BLOCKED_EXTENSIONS = frozenset({
    ".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".msi", ".msp", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh",
    ".ps1", ".jar", ".cpl", ".hta", ".lnk", ".reg", ".dll", ".sys", ".apk", ".app", ".sh", ".iso",
})  # fmt: skip
BLOCKED_TYPES = frozenset({
    "application/x-msdownload", "application/x-msdos-program", "application/x-executable", "application/x-sh",
    "application/java-archive", "application/x-ms-installer", "application/hta", "application/x-bat",
    "application/javascript", "text/javascript",
})  # fmt: skip
MAX_ATTACHMENTS = 50


@dataclass(frozen=True)
class Kept:
    position: int
    filename: str
    content_type: str
    size: int
    sha256: str
    path: str | None  # relative to the data folder
    refused: str | None


def refusal(attachment: Attachment, position: int, max_bytes: int) -> str | None:
    """Why ``attachment`` is not kept, or None."""
    if position > MAX_ATTACHMENTS:
        return f"more than {MAX_ATTACHMENTS} attachments"
    if len(attachment.data) > max_bytes:
        return f"larger than {max_bytes} bytes"
    extension = os.path.splitext(attachment.filename.lower())[1]
    if extension in BLOCKED_EXTENSIONS or attachment.content_type.lower() in BLOCKED_TYPES:
        return "a type that can run code"
    return None


class AttachmentStore:
    def __init__(self, data_dir: str | Path, max_bytes: int) -> None:
        self.root = Path(data_dir)
        self.max_bytes = max_bytes

    def keep(self, tenant_id: int, message_id: int, attachments: list[Attachment]) -> list[Kept]:
        """Write the allowed files (again, if a restart cut the first try short) and describe every one."""
        kept: list[Kept] = []
        for position, attachment in enumerate(attachments, 1):
            digest = hashlib.sha256(attachment.data).hexdigest()
            why = refusal(attachment, position, self.max_bytes)
            relative = None
            if why is None:
                relative = f"email/{tenant_id}/{message_id}/{position}"
                self._write(self.root / relative, attachment.data)
            kept.append(Kept(position, attachment.filename, attachment.content_type[:255], len(attachment.data),
                             digest, relative, why))  # fmt: skip
        return kept

    def path(self, relative: str) -> Path:
        return self.root / relative

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".part")
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(target)
