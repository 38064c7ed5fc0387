"""baresip 1.0.0 (Debian ``baresip``) as an agent's softphone in tests, driven over its ``ctrl_tcp`` socket.

``async with running_baresip(tmp_path) as phone:`` writes a config folder, starts ``baresip -f DIR`` (stdin from
/dev/null, output to ``DIR/baresip.log``), connects to ctrl_tcp and yields a ``Baresip``; on the way out it quits
the process (which unregisters its accounts) and kills it after a deadline. ``await phone.register("1002", "demo",
center.sip_address)`` adds an account, ``await phone.wait_registered()`` waits for the registrar's 200.
Failures carry the events seen and the end of baresip's log.

What baresip 1.0.0 (with libre 1.1.0, Debian 12) does, as found on this machine:

- **Ports.** ``sip_listen 127.0.0.1:P`` binds UDP P, TCP P *and* TLS on P+1; no setting turns TCP or TLS off, so
  P+1 must be free too and must not be the ctrl_tcp port. With port 0, ctrl_tcp prints the configured address,
  not the bound one, so the ports are chosen here (``_pick_ports``) and a start that lost a port race is retried.
- **Accounts.** ``<sip:EXT@SLUG.infolinia>;auth_pass=PW;outbound="sip:HOST:PORT";audio_codecs=PCMU;regint=60``:
  the AOR's domain names the tenant (the registrar's realm is ``SLUG.infolinia``), ``outbound`` sends every
  request to the server (the domain is never resolved), the digest username is the AOR's user (``auth_user=``
  would change it), ``regint`` is the Expires asked for (the registrar's minimum is 60); ``regint=0`` never
  registers (a phone that only calls or is called directly). The Contact it registers is
  ``<sip:EXT-0x<pointer>@127.0.0.1:P>``, unique per account. The ``accounts`` file holds no account here:
  accounts are added with ``uanew <line>`` once ctrl_tcp is connected, so that no REGISTER_OK or REGISTER_FAIL
  can happen before anybody listens (an account in the file registers while the modules still load).
  ``uadel <aor>`` deletes an account and unregisters it (a REGISTER with ``Expires: 0``, answering the digest
  challenge again); ``quit`` unregisters every account before the process ends.
- **Digest.** libre 1.1.0 knows MD5 only and gives up on a 401 that offers any other algorithm, even beside an
  MD5 challenge (REGISTER_FAIL with param ``Function not implemented``, ENOSYS): the registrar therefore
  challenges with MD5 alone. A wrong password gives REGISTER_FAIL with param ``401 Unauthorized``.
- **ctrl_tcp.** Netstrings both ways (``LEN:JSON,``). A command ``{"command": "dial", "params": "sip:…",
  "token": "7"}`` (the menu's commands without their slash: ``dial``, ``accept``, ``hangup``, ``sndcode 12#``,
  ``reginfo``, ``uanew``, ``uadel``, ``listcalls``, ``quit``) gets ``{"response": true, "ok": true, "data":
  "<what the menu prints, ANSI colours kept>", "token": "7"}``; a response may come before or after the events
  the command causes. Events come unasked::

      {"event": true, "type": "REGISTER_OK", "class": "register", "accountaor": "sip:1002@demo.infolinia",
       "param": "200 OK"}
      {"event": true, "type": "CALL_CLOSED", "class": "call", "accountaor": "sip:1002@demo.infolinia",
       "direction": "outgoing", "peeruri": "sip:800100200@demo.infolinia", "id": "639de5e238b4523d",
       "param": "405 Method Not Allowed"}

  Types seen: REGISTERING, REGISTER_OK, REGISTER_FAIL, UNREGISTERING; CALL_LOCAL_SDP and CALL_REMOTE_SDP (class
  ``other``, param ``offer`` or ``answer``), CALL_INCOMING (param: the caller's URI), CALL_RINGING,
  CALL_ESTABLISHED, CALL_RTPESTAB (class ``other``, param ``audio``), CALL_RTCP (with ``rtcp_stats``),
  CALL_DTMF_START (param: the digit received) and CALL_DTMF_END, CALL_CLOSED (param: the status line of a
  refusal, ``Connection reset by user`` / ``by peer`` after a BYE, ``end of file`` when the aufile ran out,
  after an AUDIO_ERROR); SHUTDOWN and EXIT on quit. ``id`` is the call's SIP Call-ID (the same on both ends).
- **Audio.** ``audio_source aufile,FILE.wav`` sends a WAV (8 kHz mono 16-bit, so PCMU needs no resampling;
  ``ausine`` is 48 kHz only) and hangs the call up when the file ends: ``tone_seconds`` pads it. ``audio_player
  aubridge,nil`` plays into nothing (no sound card). The ``sndfile`` filter writes each call's audio into
  ``snd_path`` as ``dump-YYYY-MM-DD-hh-mm-ss-enc.wav`` (what it sent) and ``…-dec.wav`` (what it heard), 8 kHz
  mono 16-bit, complete once the call has closed; the name has whole seconds, so calls that start within the
  same second share (and overwrite) a file. ``dominant_frequency`` finds a tone in one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import time
import wave
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests import audio

BARESIP = shutil.which("baresip")
if BARESIP is None and os.environ.get("CI") == "true":
    raise RuntimeError("baresip (Debian baresip) is required in CI: scripts/install-test-prereqs.sh installs it")
needs_baresip = pytest.mark.skipif(BARESIP is None, reason="baresip (Debian baresip) is not installed")

DEFAULT_TIMEOUT = 20.0
RATE = 8000
MODULE_FOLDERS = (Path("/usr/lib/baresip/modules"), Path("/usr/local/lib/baresip/modules"))
"""Where Debian (and a source build) put the modules; the config must name the folder, there is no default."""
MODULES = ("g711", "aufile", "aubridge", "sndfile")
APP_MODULES = ("menu", "ctrl_tcp")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_START_ATTEMPTS = 3


# --- audio -------------------------------------------------------------------------------------------------------


def write_tone(path: Path, frequency: float, seconds: float, *, amplitude: float = 0.3) -> Path:
    """A sine tone as an 8 kHz mono 16-bit WAV (what baresip's aufile sends on a PCMU call without resampling)."""
    t = np.arange(int(seconds * RATE)) / RATE
    samples = (amplitude * 32767 * np.sin(2 * np.pi * frequency * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray[Any, np.dtype[np.float64]], int]:
    """The samples of a mono 16-bit WAV (as floats in [-1, 1]) and its rate."""
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise ValueError(f"{path}: not mono 16-bit")
        frames = wav.readframes(wav.getnframes())
        return np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768, wav.getframerate()


def dominant_frequency(path: Path) -> float:
    """The frequency (Hz) of the strongest spectral peak in a mono 16-bit WAV; 0.0 for silence or no samples."""
    samples, rate = read_wav(path)
    return audio.dominant_frequency(samples, rate)


# --- configuration -----------------------------------------------------------------------------------------------


def account_line(
    extension: str,
    password: str,
    server: tuple[str, int],
    *,
    tenant: str = "demo",
    regint: int = 60,
    transport: str = "udp",
) -> str:
    """The account of agent ``extension`` of tenant ``tenant`` registering with the server at ``server`` over
    ``transport`` (``udp`` or ``tcp``: every request of the account goes over it)."""
    host, port = server
    outbound = f"sip:{host}:{port}" + ("" if transport == "udp" else f";transport={transport}")
    return (
        f'<sip:{extension}@{tenant}.infolinia>;auth_pass={password};outbound="{outbound}"'
        f";audio_codecs=PCMU;regint={regint}"
    )


def write_config(folder: Path, sip_port: int, ctrl_port: int, source: Path, recordings: Path) -> None:
    modules = [f"module {name}.so" for name in MODULES] + [f"module_app {name}.so" for name in APP_MODULES]
    module_path = next((path for path in MODULE_FOLDERS if (path / "ctrl_tcp.so").exists()), MODULE_FOLDERS[0])
    lines = [
        "poll_method epoll",
        f"sip_listen 127.0.0.1:{sip_port}",
        "call_local_timeout 120",
        "call_max_calls 4",
        f"audio_path {folder}",
        f"audio_source aufile,{source}",
        "audio_player aubridge,nil",
        "audio_alert aubridge,nil",
        f"module_path {module_path}",
        "module_tmp account.so",
        *modules,
        f"ctrl_tcp_listen 127.0.0.1:{ctrl_port}",
        f"snd_path {recordings}",
    ]
    (folder / "config").write_text("\n".join(lines) + "\n")
    (folder / "accounts").write_text("# accounts are added with uanew over ctrl_tcp\n")


def _bindable(kind: socket.SocketKind, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pick_ports() -> tuple[int, int]:
    """A SIP port P with UDP P, TCP P and TCP P+1 free (baresip's TLS listens on P+1), and a ctrl_tcp port."""
    for _ in range(100):
        sip = _free_port(socket.SOCK_DGRAM)
        if sip < 65535 and _bindable(socket.SOCK_STREAM, sip) and _bindable(socket.SOCK_STREAM, sip + 1):
            ctrl = _free_port(socket.SOCK_STREAM)
            if ctrl not in (sip, sip + 1):
                return sip, ctrl
    raise RuntimeError("no free ports for baresip")


# --- the phone ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One ctrl_tcp event: ``type`` (REGISTER_OK, CALL_CLOSED, ...), the account's AOR, and for calls the
    direction, peer URI and call id (the SIP Call-ID); ``param`` as baresip gives it (see the module doc)."""

    type: str
    kind: str
    aor: str
    param: str
    call_id: str | None
    peer_uri: str | None
    direction: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Event:
        return cls(
            str(raw.get("type", "")), str(raw.get("class", "")), str(raw.get("accountaor", "")),
            str(raw.get("param", "")), raw.get("id"), raw.get("peeruri"), raw.get("direction"), raw,
        )  # fmt: skip


class CommandFailed(AssertionError):
    pass


class _Lost(Exception):
    """The ctrl_tcp connection ended (baresip exited or dropped it)."""


class Baresip:
    """A running baresip with its ctrl_tcp connection. Made by ``start`` (or ``running_baresip``)."""

    def __init__(
        self,
        folder: Path,
        process: asyncio.subprocess.Process,
        ctrl: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        sip_port: int,
        ctrl_port: int,
    ) -> None:
        self.folder = folder
        self.recordings_folder = folder / "recordings"
        self.process = process
        self.sip_port = sip_port
        self.ctrl_port = ctrl_port
        self.events: list[Event] = []
        self._reader, self._writer = ctrl
        self._tokens = count(1)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._taken: set[int] = set()
        self._changed = asyncio.Condition()
        self._lost = False
        self._task = asyncio.create_task(self._read(), name=f"baresip-ctrl-{ctrl_port}")

    # --- start and stop ------------------------------------------------------------------------------------------

    @classmethod
    async def start(
        cls,
        folder: Path,
        *,
        tone_hz: float = 440.0,
        tone_seconds: float = 120.0,
        within_s: float = DEFAULT_TIMEOUT,
        source: Path | None = None,
    ) -> Baresip:
        """Write the config into ``folder`` (made if missing), start baresip and connect to its ctrl_tcp socket.
        The phone sends a ``tone_hz`` sine for ``tone_seconds`` on every call (a call ends when the tone does), or
        the 8 kHz mono 16-bit WAV ``source`` when given (speech, say)."""
        tone = _prepare(folder, tone_hz, tone_seconds)
        source = source or tone
        failures: list[str] = []
        for _ in range(_START_ATTEMPTS):
            sip_port, ctrl_port = _pick_ports()
            write_config(folder, sip_port, ctrl_port, source, folder / "recordings")
            process = await _spawn(folder)
            try:
                ctrl = await _connect(process, ctrl_port, within_s, lambda: _log_of(folder))
            except _Lost:
                await _end(process, 0)
                failures.append(_log_of(folder))
                if "Address already in use" in failures[-1]:
                    continue  # a port was taken between choosing and binding it: choose again
                break
            except BaseException:
                await _end(process, 0)
                raise
            return cls(folder, process, ctrl, sip_port, ctrl_port)
        raise AssertionError("baresip did not start:\n" + "\n---\n".join(failures))

    async def stop(self, within_s: float = DEFAULT_TIMEOUT) -> int:
        """``quit`` (which unregisters every account), wait for the exit; kill it after ``within_s``. The exit code."""
        if self.process.returncode is None and not self._lost:
            with contextlib.suppress(_Lost, TimeoutError, ConnectionError, CommandFailed):
                await self.command("quit", within_s=within_s)
        code = await _end(self.process, within_s)
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return code

    def log(self) -> str:
        """baresip's output so far, without colour codes."""
        return _log_of(self.folder)

    def describe(self) -> str:
        """The events so far and the end of the log: for failure messages."""
        events = "\n".join(json.dumps(e.raw) for e in self.events[-40:])
        return f"baresip events:\n{events}\nbaresip log (end):\n{self.log()[-4000:]}"

    # --- commands ------------------------------------------------------------------------------------------------

    async def command(self, command: str, params: str | None = None, *, within_s: float = DEFAULT_TIMEOUT) -> str:
        """Run a menu command (``dial``, ``accept``, ``uanew`` ...) and return the text it prints."""
        token = str(next(self._tokens))
        message: dict[str, str] = {"command": command, "token": token}
        if params is not None:
            message["params"] = params
        payload = json.dumps(message).encode()
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[token] = answer
        try:
            if self._lost:
                raise _Lost
            self._writer.write(b"%d:%s," % (len(payload), payload))
            await self._writer.drain()
            response = await asyncio.wait_for(answer, within_s)
        except TimeoutError:
            raise AssertionError(f"no answer to {command} {params or ''} in {within_s} s\n{self.describe()}") from None
        finally:
            self._pending.pop(token, None)
        data = _ANSI.sub("", str(response.get("data", "")))
        if not response.get("ok"):
            raise CommandFailed(f"{command} {params or ''} failed: {data}\n{self.describe()}")
        return data

    async def add_account(self, line: str) -> str:
        """``uanew``: add an account (a line as in baresip's ``accounts`` file); its AOR."""
        await self.command("uanew", line)
        match = re.match(r"\s*<([^>]+)>", line)
        if match is None:
            raise ValueError(f"no <sip:...> in {line!r}")
        return match[1]

    async def register(self, extension: str, password: str, server: tuple[str, int], **options: str | int) -> str:
        """Add the account of agent ``extension`` registering with ``server`` (``options``: ``tenant``,
        ``regint``, ``transport``, see ``account_line``); its AOR. Registration runs in the background:
        ``wait_registered`` waits for its outcome."""
        return await self.add_account(account_line(extension, password, server, **options))  # type: ignore[arg-type]

    async def local_account(self, user: str) -> str:
        """An account that never registers, for calls straight to and from this phone (``self.uri(user)``)."""
        return await self.add_account(f"<{self.uri(user)}>;regint=0;audio_codecs=PCMU")

    def uri(self, user: str) -> str:
        return f"sip:{user}@127.0.0.1:{self.sip_port}"

    async def unregister(self, aor: str) -> None:
        """``uadel``: delete the account, which unregisters it."""
        await self.command("uadel", aor)

    async def dial(self, uri: str) -> None:
        await self.command("dial", uri)

    async def accept(self) -> None:
        await self.command("accept")

    async def hangup(self) -> None:
        await self.command("hangup")

    async def hold(self) -> None:
        """Hold the current call (a re-INVITE with a=sendonly)."""
        await self.command("hold")

    async def resume(self) -> None:
        """Resume the held call (a re-INVITE with a=sendrecv)."""
        await self.command("resume")

    async def send_digits(self, digits: str) -> None:
        """RFC 4733 telephone events on the current call, e.g. ``"12#"``."""
        await self.command("sndcode", digits)

    # --- events --------------------------------------------------------------------------------------------------

    async def wait_event(self, kind: str | tuple[str, ...], within_s: float = DEFAULT_TIMEOUT) -> Event:
        """The first event of type ``kind`` (or of any of the types given) that no earlier ``wait_event`` call
        returned, waiting up to ``within_s`` seconds for it; events that came before the call count."""
        kinds = (kind,) if isinstance(kind, str) else kind

        def found() -> int | None:
            return next(
                (i for i, e in enumerate(self.events) if e.type in kinds and i not in self._taken),
                None,
            )

        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None or self._lost), within_s)
        except TimeoutError:
            raise AssertionError(f"no {' or '.join(kinds)} from baresip in {within_s} s\n{self.describe()}") from None
        index = found()
        if index is None:
            raise AssertionError(f"baresip's ctrl_tcp closed before {' or '.join(kinds)}\n{self.describe()}")
        self._taken.add(index)
        return self.events[index]

    async def wait_registered(self, within_s: float = DEFAULT_TIMEOUT) -> Event:
        """The next REGISTER_OK; a REGISTER_FAIL instead fails the test."""
        event = await self.wait_event(("REGISTER_OK", "REGISTER_FAIL"), within_s)
        if event.type != "REGISTER_OK":
            raise AssertionError(f"registration of {event.aor} failed: {event.param}\n{self.describe()}")
        return event

    def recordings(self, which: str = "dec") -> list[Path]:
        """The sndfile recordings, oldest first: ``dec`` what the phone heard, ``enc`` what it sent."""
        return sorted(self.recordings_folder.glob(f"dump-*-{which}.wav"))

    async def heard(self, seconds: float, within_s: float = 30.0) -> Path:
        """The phone's recording of what it hears, once it holds ``seconds`` of audio."""
        deadline = time.monotonic() + within_s
        while True:
            done = [p for p in self.recordings() if p.stat().st_size > 44 + seconds * 16000]
            if done:
                return done[0]
            assert time.monotonic() < deadline, f"under {seconds} s heard\n{self.describe()}"
            await asyncio.sleep(0.05)

    async def _read(self) -> None:
        try:
            while True:
                message = await _read_netstring(self._reader)
                if message.get("event"):
                    self.events.append(Event.of(message))
                elif message.get("response"):
                    waiting = self._pending.get(str(message.get("token")))
                    if waiting is not None and not waiting.done():
                        waiting.set_result(message)
                async with self._changed:
                    self._changed.notify_all()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        self._lost = True
        for waiting in self._pending.values():
            if not waiting.done():
                waiting.set_exception(_Lost())
        async with self._changed:
            self._changed.notify_all()


@asynccontextmanager
async def running_baresip(
    folder: Path, *, tone_hz: float = 440.0, tone_seconds: float = 120.0, source: Path | None = None
) -> AsyncIterator[Baresip]:
    """A started ``Baresip`` that is stopped (quit, then killed) however the block ends."""
    phone = await Baresip.start(folder, tone_hz=tone_hz, tone_seconds=tone_seconds, source=source)
    try:
        yield phone
    finally:
        await phone.stop()


# --- process and socket plumbing ---------------------------------------------------------------------------------


def _prepare(folder: Path, tone_hz: float, tone_seconds: float) -> Path:
    """The config folder with its recordings folder, and the tone to send."""
    if BARESIP is None:
        raise RuntimeError("baresip is not installed")
    (folder / "recordings").mkdir(parents=True, exist_ok=True)
    return write_tone(folder / "tone.wav", tone_hz, tone_seconds)


async def _spawn(folder: Path) -> asyncio.subprocess.Process:
    assert BARESIP is not None
    with (folder / "baresip.log").open("wb") as log:  # a fresh log for each start; the child keeps its own handle
        return await asyncio.create_subprocess_exec(
            BARESIP, "-f", str(folder), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT
        )


async def _connect(
    process: asyncio.subprocess.Process, port: int, within_s: float, log: Callable[[], str]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to ctrl_tcp once it listens; ``_Lost`` when baresip exits or reports a port in use first."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        if process.returncode is not None or "Address already in use" in log():
            raise _Lost
        try:
            return await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"baresip's ctrl_tcp not listening after {within_s} s:\n{log()}") from None
            await asyncio.sleep(0.05)


async def _read_netstring(reader: asyncio.StreamReader) -> dict[str, Any]:
    length = await reader.readuntil(b":")
    if not length[:-1].isdigit() or len(length) > 10:
        raise ValueError(f"not a netstring length: {length!r}")
    body = await reader.readexactly(int(length[:-1]) + 1)
    if body[-1:] != b",":
        raise ValueError("netstring without its comma")
    message = json.loads(body[:-1])
    if not isinstance(message, dict):
        raise ValueError(f"not a JSON object: {message!r}")
    return message


async def _end(process: asyncio.subprocess.Process, within_s: float) -> int:
    """Wait up to ``within_s`` for the process to exit, then kill it; its exit code."""
    try:
        return await asyncio.wait_for(process.wait(), within_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        return await process.wait()


def _log_of(folder: Path) -> str:
    path = folder / "baresip.log"
    return _ANSI.sub("", path.read_text(errors="replace")) if path.exists() else ""
