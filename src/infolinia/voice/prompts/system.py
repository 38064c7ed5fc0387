"""The system prompts on disk: ``<data_dir>/prompts/system/<language>/<name>.wav`` (8 kHz mono 16-bit PCM) and
``manifest.json`` beside them, which records for each file what made it (the text, the voice and a hash of
espeak-ng's version; for a tone, its version) and the file's SHA-256.

``load_or_generate`` makes only what is missing, damaged or out of date, so a restart with an unchanged catalog and
espeak-ng reads the files and runs nothing. Without espeak-ng, files made earlier for the same texts are used (the
version cannot be checked); a prompt that would have to be made is an ``EspeakMissing`` error. Files are written
to a temporary name and renamed, so a crash or a second process never leaves half a file under a prompt's name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from infolinia.voice.prompts import generate, tones, wav
from infolinia.voice.prompts.audio import RATE, Samples, wav_bytes
from infolinia.voice.prompts.catalog import SPEECH, TONES, VOICES

__all__ = ["Key", "SystemPrompts", "load_or_generate", "read_prompt_file", "system_folder"]

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (language, name)
Recipe = dict[str, str]
Catalog = Mapping[str, Mapping[str, str]]
MANIFEST: Final = "manifest.json"
MANIFEST_FORMAT: Final = 1
_FILE_KEY: Final = re.compile(r"[a-z]{2,3}/[A-Za-z0-9_]{1,64}")


@dataclass(frozen=True)
class SystemPrompts:
    """Every system prompt's samples by (language, name), and what loading them took."""

    audio: dict[Key, Samples]
    generated: int
    reused: int
    seconds: float


def system_folder(data_dir: str | Path) -> Path:
    return Path(data_dir) / "prompts" / "system"


def _recipes(engine: str | None, speech: Catalog) -> dict[Key, Recipe]:
    recipes: dict[Key, Recipe] = {}
    for language, texts in speech.items():
        voice = VOICES[language]
        for name, text in texts.items():
            recipes[(language, name)] = {
                "text": text, "voice": voice.name, "speed": str(voice.speed), "engine": engine or "",
            }  # fmt: skip
        for name in TONES:
            recipes[(language, name)] = {"tone": name, "version": tones.TONES_VERSION}
    return recipes


def _same(made: Any, wanted: Recipe, engine_known: bool) -> bool:
    """Whether a file made by ``made`` is what ``wanted`` describes (without espeak-ng, its version is unknown)."""
    if not isinstance(made, dict):
        return False
    if engine_known or "engine" not in wanted:
        return made == wanted
    return {k: v for k, v in made.items() if k != "engine"} == {k: v for k, v in wanted.items() if k != "engine"}


def read_prompt_file(data: bytes) -> Samples:
    """A stored prompt file's samples; an ``AudioError`` unless it is 8 kHz mono 16-bit PCM."""
    fmt, raw = wav.read(data)
    if (fmt.encoding, fmt.channels, fmt.rate, fmt.bits) != ("pcm", 1, RATE, 16):
        raise wav.AudioError(f"not 8 kHz mono 16-bit PCM: {fmt}")
    return np.frombuffer(raw, dtype="<i2").astype(np.int16)


def _load(path: Path, sha256: Any) -> Samples | None:
    try:
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            return None
        return read_prompt_file(data)
    except (OSError, wav.AudioError):
        return None


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise generate.PromptError(f"cannot store the system prompts in {path.parent}: {exc}") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise generate.PromptError(f"cannot store the system prompts in {path.parent}: {exc}") from exc
        raise


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("prompt manifest unreadable (%s): making every system prompt again", exc)
        return {}
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return {}
    prompts = manifest.get("prompts")
    return prompts if isinstance(prompts, dict) else {}


def _make(todo: dict[Key, Recipe], workers: int | None) -> dict[Key, Samples]:
    speech = {key: (r["text"], VOICES[key[0]]) for key, r in todo.items() if "text" in r}
    made = generate.synthesise_many(speech, workers)
    sounds = {name: tones.synthesise(name) for name in {r["tone"] for r in todo.values() if "tone" in r}}
    return made | {key: sounds[r["tone"]] for key, r in todo.items() if "tone" in r}


def load_or_generate(data_dir: str | Path, workers: int | None = None, speech: Catalog = SPEECH) -> SystemPrompts:
    """Every system prompt, read from ``data_dir`` or made (and stored) when missing or out of date. ``speech``:
    language -> name -> text (the catalog's, unless a test gives a smaller one); the tones come in every language."""
    started = time.perf_counter()
    folder = system_folder(data_dir)
    manifest = _read_manifest(folder)
    try:
        engine: str | None = generate.engine_id()
    except generate.EspeakMissing:
        engine = None
    wanted = _recipes(engine, speech)
    audio: dict[Key, Samples] = {}
    for key, recipe in wanted.items():
        entry = manifest.get("/".join(key))
        if isinstance(entry, dict) and _same(entry.get("recipe"), recipe, engine is not None):
            found = _load(folder.joinpath(*key).with_suffix(".wav"), entry.get("sha256"))
            if found is not None:
                audio[key] = found
    todo = {key: recipe for key, recipe in wanted.items() if key not in audio}
    if engine is None and any("text" in r for r in todo.values()):
        raise generate.EspeakMissing()
    if engine is None:
        log.warning("espeak-ng not found: using the system prompts made earlier")
    made = _make(todo, workers)
    entries: dict[str, Any] = {}
    for key in wanted:
        path = folder.joinpath(*key).with_suffix(".wav")
        if key in made:
            data = wav_bytes(made[key])
            _write_atomic(path, data)
            audio[key] = made[key]
            entries["/".join(key)] = {"recipe": wanted[key], "sha256": hashlib.sha256(data).hexdigest()}
        else:
            entries["/".join(key)] = manifest["/".join(key)]
    for stale in set(manifest) - set(entries):
        if _FILE_KEY.fullmatch(stale):  # never a path the manifest could point outside the folder with
            folder.joinpath(*stale.split("/")).with_suffix(".wav").unlink(missing_ok=True)
    if made or set(manifest) != set(entries):
        document = {"format": MANIFEST_FORMAT, "prompts": entries}
        _write_atomic(folder / MANIFEST, json.dumps(document, ensure_ascii=False, indent=1).encode())
    return SystemPrompts(audio, len(made), len(wanted) - len(made), time.perf_counter() - started)
