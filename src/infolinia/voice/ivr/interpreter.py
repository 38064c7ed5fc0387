"""The IVR flow interpreter, sans-IO: inputs (digits, prompt ends, timeouts, lookup answers) in, commands out.

The shell plays what ``Play`` names, collects digits after ``Collect``, answers ``Lookup`` with ``lookup_result``
and ``OfferCallback`` with ``callback_result``, and calls ``timeout(now)`` once ``next_deadline`` has passed.
``EnterQueue``, ``RecordVoicemail``, ``Transfer`` and ``Hangup`` end the flow (``Call.done``): the call leaves the
IVR. Time is explicit (seconds, any monotonic origin); the calendar is a function the shell passes in.

Barge-in: a digit typed during an interruptible ``Play`` ends that prompt (the shell stops playing it) and is kept
for the next node that collects digits; during a prompt that is not interruptible digits are dropped. Inputs that
do not fit the current state (a stray ``prompt_done``, an early ``timeout``) are ignored and return no command.

A menu counts invalid digits and timeouts together (see ``MenuNode``). A call that enters ``max_visits`` nodes is
hung up (``Hangup("loop_limit")``), so a caller looping through a menu cannot hold a line forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from infolinia.voice.ivr.flow import (
    DIGITS,
    AnnounceNode,
    CallbackOfferNode,
    Flow,
    HangupNode,
    HoursNode,
    IdentifyNode,
    MenuNode,
    Node,
    PlayNode,
    QueueNode,
    TransferNode,
    VoicemailNode,
    targets,
)

__all__ = [
    "Call",
    "CallError",
    "Collect",
    "Command",
    "EnterQueue",
    "Hangup",
    "HoursStatus",
    "Lookup",
    "OfferCallback",
    "Play",
    "RecordVoicemail",
    "Transfer",
]

log = logging.getLogger(__name__)

HoursStatus = Literal["open", "closed", "holiday"]
MAX_BUFFER = 32


class CallError(ValueError):
    """A flow the interpreter cannot run (an unknown node reference), or an input before ``start``."""


@dataclass(frozen=True)
class Play:
    prompt: str
    interruptible: bool


@dataclass(frozen=True)
class Collect:
    max_digits: int
    timeout_s: float


@dataclass(frozen=True)
class Lookup:
    """Find the customer by caller ID, or by the customer number the caller typed (``digits``)."""

    caller_id: str | None = None
    digits: str | None = None


@dataclass(frozen=True)
class EnterQueue:
    queue: str
    skills: tuple[str, ...]
    language: str | None
    priority: int
    messages: tuple[str, ...] = ()  # played in turn between the music while waiting
    announce_every_s: float = 30.0


@dataclass(frozen=True)
class OfferCallback:
    prompt: str | None


@dataclass(frozen=True)
class RecordVoicemail:
    prompt: str | None
    queue: str | None
    max_s: int


@dataclass(frozen=True)
class Transfer:
    """To a queue of the tenant (``kind="queue"``) or one of its extensions (rung for ``ring_s``; if that fails
    the call reports it with ``Call.transfer_failed``)."""

    kind: Literal["queue", "extension"]
    target: str
    ring_s: float = 30.0


@dataclass(frozen=True)
class Hangup:
    reason: str


Command = Play | Collect | Lookup | EnterQueue | OfferCallback | RecordVoicemail | Transfer | Hangup

# What the call waits for in its current node.
Phase = Literal[
    "idle",  # before start
    "prompt",  # a play, announce or hangup prompt: waits for prompt_done
    "menu_notice",  # the invalid/timeout notice: a digit chooses, prompt_done plays the menu prompt again
    "menu_prompt",  # the menu prompt: a digit chooses, prompt_done starts the clock
    "menu_wait",  # waits for a digit until the deadline
    "lookup",  # waits for lookup_result
    "identify_prompt",  # asks for the customer number
    "identify_digits",  # collects it
    "callback",  # waits for callback_result
    "done",
]


class Call:
    """One caller going through one flow. ``path`` lists every node entered, in order (repeats included)."""

    def __init__(self, flow: Flow, *, max_visits: int = 100) -> None:
        self._nodes: dict[str, Node] = {}
        for node in flow.nodes:
            self._nodes.setdefault(node.id, node)
        for node in flow.nodes:
            for field, target in targets(node):
                if target not in self._nodes:
                    raise CallError(f"{node.id}.{field}: unknown node {target!r}")
        if flow.start not in self._nodes:
            raise CallError(f"start: unknown node {flow.start!r}")
        self._start = flow.start
        self._max_visits = max_visits
        self.path: list[str] = []
        self.caller_id: str | None = None
        self.customer_id: int | None = None
        self.next_deadline: float | None = None
        self._hours: Callable[[float], HoursStatus] = _never_called
        self._phase: Phase = "idle"
        self._node: Node | None = None
        self._buffer = ""
        self._failures = 0
        self._typed = ""
        self._looked_up_number = False

    @property
    def done(self) -> bool:
        return self._phase == "done"

    @property
    def node(self) -> str | None:
        return None if self._node is None else self._node.id

    def start(self, now: float, caller_id: str | None, hours: Callable[[float], HoursStatus]) -> list[Command]:
        if self._phase != "idle":
            raise CallError("the call has already started")
        self.caller_id = caller_id or None
        self._hours = hours
        out: list[Command] = []
        self._enter(self._start, now, out)
        return out

    def digit(self, d: str, now: float) -> list[Command]:
        if d not in DIGITS:
            raise CallError(f"not a DTMF digit: {d!r}")
        out: list[Command] = []
        node, phase = self._node, self._phase
        if phase == "prompt" and isinstance(node, PlayNode | AnnounceNode) and node.interruptible:
            self._keep(d)
            self._enter(node.next, now, out)
        elif phase in ("menu_notice", "menu_prompt", "menu_wait") and isinstance(node, MenuNode):
            self._choose(node, d, now, out)
        elif phase == "identify_prompt" or phase == "identify_digits":
            assert isinstance(node, IdentifyNode)
            self._type(node, d, now, out)
        elif phase in ("lookup", "callback"):
            self._keep(d)
        return out

    def prompt_done(self, now: float) -> list[Command]:
        out: list[Command] = []
        node = self._node
        if self._phase == "prompt" and isinstance(node, PlayNode | AnnounceNode):
            self._enter(node.next, now, out)
        elif self._phase == "prompt" and isinstance(node, HangupNode):
            self._finish(Hangup(node.reason), out)
        elif self._phase == "menu_notice" and isinstance(node, MenuNode):
            self._phase = "menu_prompt"
            out.append(Play(node.prompt, True))
        elif self._phase == "menu_prompt" and isinstance(node, MenuNode):
            self._wait(node.timeout_s, now, "menu_wait", Collect(1, node.timeout_s), out)
        elif self._phase == "identify_prompt" and isinstance(node, IdentifyNode):
            self._wait(node.timeout_s, now, "identify_digits", Collect(node.max_digits, node.timeout_s), out)
        return out

    def timeout(self, now: float) -> list[Command]:
        out: list[Command] = []
        if self.next_deadline is None or now < self.next_deadline:
            return out
        node = self._node
        self.next_deadline = None
        if self._phase == "menu_wait" and isinstance(node, MenuNode):
            self._fail(node, node.timeout_prompt, now, out)
        elif self._phase == "identify_digits" and isinstance(node, IdentifyNode):
            self._number_typed(node, now, out)
        return out

    def lookup_result(self, customer_id: int | None, now: float) -> list[Command]:
        out: list[Command] = []
        node = self._node
        if self._phase != "lookup" or not isinstance(node, IdentifyNode):
            return out
        if customer_id is not None:
            self.customer_id = customer_id
            self._enter(node.found, now, out)
        elif self._looked_up_number:
            self._enter(node.not_found, now, out)
        else:
            self._ask_number(node, now, out)
        return out

    def callback_result(self, accepted: bool, now: float) -> list[Command]:
        out: list[Command] = []
        node = self._node
        if self._phase != "callback" or not isinstance(node, CallbackOfferNode):
            return out
        target = node.accepted if accepted else node.declined
        if target is None:
            self._finish(Hangup("callback_accepted" if accepted else "callback_declined"), out)
        else:
            self._enter(target, now, out)
        return out

    def transfer_failed(self, now: float) -> list[Command]:
        """The extension a ``Transfer`` rang has no phone, refused or did not answer: the node's ``on_failure``
        takes the call (the flow goes on from there); without one, nothing (the call says so and ends)."""
        out: list[Command] = []
        node = self._node
        if self._phase == "done" and isinstance(node, TransferNode) and node.on_failure is not None:
            self._phase = "idle"
            self._enter(node.on_failure, now, out)
        return out

    # -- transitions -------------------------------------------------------------------------------------------

    def _enter(self, node_id: str, now: float, out: list[Command]) -> None:
        if len(self.path) >= self._max_visits:
            self._finish(Hangup("loop_limit"), out)
            return
        node = self._nodes[node_id]
        log.debug("ivr: %s -> %s (%s)", self.node, node_id, node.type)
        self._node = node
        self.path.append(node_id)
        self.next_deadline = None
        match node:
            case PlayNode() | AnnounceNode():
                self._phase = "prompt"
                out.append(Play(node.prompt, node.interruptible))
            case MenuNode():
                self._failures = 0
                self._menu_prompt(node, now, out)
            case HoursNode():
                status = self._hours(now)
                target = {"open": node.open, "closed": node.closed, "holiday": node.holiday or node.closed}[status]
                self._enter(target, now, out)
            case IdentifyNode():
                self._typed = ""
                self._looked_up_number = False
                if self.caller_id is not None:
                    self._phase = "lookup"
                    out.append(Lookup(caller_id=self.caller_id))
                else:
                    self._ask_number(node, now, out)
            case QueueNode():
                self._finish(
                    EnterQueue(
                        node.queue,
                        tuple(node.skills),
                        node.language,
                        node.priority,
                        tuple(node.messages),
                        node.announce_every_s,
                    ),
                    out,
                )
            case CallbackOfferNode():
                self._phase = "callback"
                out.append(OfferCallback(node.prompt))
            case VoicemailNode():
                self._finish(RecordVoicemail(node.prompt, node.queue, node.max_s), out)
            case TransferNode():
                if node.extension is not None:
                    self._finish(Transfer("extension", node.extension, node.ring_s), out)
                else:
                    assert node.queue is not None
                    self._finish(Transfer("queue", node.queue), out)
            case HangupNode():
                if node.prompt is None:
                    self._finish(Hangup(node.reason), out)
                else:
                    self._phase = "prompt"
                    out.append(Play(node.prompt, False))

    def _menu_prompt(self, node: MenuNode, now: float, out: list[Command]) -> None:
        if self._buffer:  # barge-in: a digit typed before the menu answers it without its prompt
            d, self._buffer = self._buffer[0], self._buffer[1:]
            self._choose(node, d, now, out)
            return
        self._phase = "menu_prompt"
        out.append(Play(node.prompt, True))

    def _choose(self, node: MenuNode, d: str, now: float, out: list[Command]) -> None:
        self.next_deadline = None
        target = next((branch for key, branch in node.digits.items() if key == d), None)
        if target is not None:
            self._buffer = ""
            self._enter(target, now, out)
        else:
            self._fail(node, node.invalid_prompt, now, out)

    def _fail(self, node: MenuNode, notice: str | None, now: float, out: list[Command]) -> None:
        self._failures += 1
        if self._failures > node.retries:
            self._buffer = ""
            self._enter(node.on_failure, now, out)
        elif notice is not None:  # the notice, then the menu prompt again
            self._buffer = ""
            self._phase = "menu_notice"
            out.append(Play(notice, True))
        else:
            self._buffer = ""
            self._phase = "menu_prompt"
            out.append(Play(node.prompt, True))

    def _ask_number(self, node: IdentifyNode, now: float, out: list[Command]) -> None:
        self._typed = ""
        if self._buffer:
            buffered, self._buffer = self._buffer, ""
            for d in buffered:
                self._type(node, d, now, out)
                if self._phase != "identify_prompt" and self._phase != "identify_digits":
                    return
            if self._typed:
                out.append(Collect(node.max_digits - len(self._typed), node.timeout_s))
                return
        self._phase = "identify_prompt"
        out.append(Play(node.prompt, True))

    def _type(self, node: IdentifyNode, d: str, now: float, out: list[Command]) -> None:
        if d == "#":
            self._number_typed(node, now, out)
            return
        if d == "*":
            self._typed = ""
        else:
            self._typed += d
        if len(self._typed) >= node.max_digits:
            self._number_typed(node, now, out)
        else:
            self._wait(node.timeout_s, now, "identify_digits", None, out)

    def _number_typed(self, node: IdentifyNode, now: float, out: list[Command]) -> None:
        self.next_deadline = None
        if not self._typed:
            self._enter(node.not_found, now, out)
            return
        self._looked_up_number = True
        self._phase = "lookup"
        out.append(Lookup(digits=self._typed))

    def _wait(self, timeout_s: float, now: float, phase: Phase, collect: Collect | None, out: list[Command]) -> None:
        self._phase = phase
        self.next_deadline = now + timeout_s
        if collect is not None:
            out.append(collect)

    def _keep(self, d: str) -> None:
        if len(self._buffer) < MAX_BUFFER:
            self._buffer += d

    def _finish(self, command: Command, out: list[Command]) -> None:
        self._phase = "done"
        self.next_deadline = None
        out.append(command)


def _never_called(now: float) -> HoursStatus:
    raise CallError("the call has not started")
