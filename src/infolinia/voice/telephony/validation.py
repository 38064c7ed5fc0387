"""Checks on what an admin saves, pure: phone numbers, trunk source networks, and IVR flows (every problem of a
flow as one list, whether its shape is wrong or its graph, prompts or queues).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as attribute
from typing import Any

import phonenumbers
from pydantic import ValidationError

from infolinia.customers.identities import InvalidIdentity, normalize_phone
from infolinia.voice.ivr import Flow, FlowError, validate

__all__ = ["MAX_SOURCES", "FlowProblem", "InvalidNumber", "check_flow", "number_forms", "source_network"]

#: allowed source networks per trunk
MAX_SOURCES = 32


class InvalidNumber(ValueError):
    """A phone number that cannot be a tenant's number."""


def number_forms(raw: str, region: str) -> tuple[str, str]:
    """``(e164, national)`` of ``raw``: any usual way of writing it, national ones read in ``region`` (the tenant's
    country). ``national`` is the national significant number, what callers within the country dial without a
    trunk prefix (``800100200`` for ``+48800100200``)."""
    try:
        e164 = normalize_phone(raw, region)
    except InvalidIdentity as exc:
        raise InvalidNumber(str(exc)) from exc
    national: str = phonenumbers.national_significant_number(phonenumbers.parse(e164))
    return e164, national


def source_network(value: str) -> str:
    """``value`` as a network in CIDR form (a plain address is a /32 or /128); ValueError saying why not.

    Refused: host bits set (``10.0.0.1/24``: the intended network is unclear), a zone (``fe80::1%eth0``), IPv4 written
    as IPv6 (``::ffff:10.0.0.1``: write ``10.0.0.1``), and the whole address space (``0.0.0.0/0``: a trunk that takes
    calls from anywhere has no allowed sources and credentials instead)."""
    if "%" in value:
        raise ValueError(f"{value!r}: a zone (%...) has no place in an allowed source")
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        reason = "has host bits set" if "host bits" in str(exc) else "is not an IP network in CIDR form"
        raise ValueError(f"{value!r} {reason} (write networks such as 192.0.2.0/24 or 2001:db8::/32)") from exc
    if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped is not None:
        raise ValueError(f"{value!r}: write IPv4 networks as IPv4 (such as 192.0.2.0/24)")
    if network.prefixlen == 0:
        raise ValueError(f"{value!r} is every address: leave allowed_sources empty and give credentials instead")
    return str(network)


@dataclass(frozen=True, slots=True)
class FlowProblem:
    """One problem of a flow: ``path`` inside the definition (``nodes[2].digits.1``), the ``node`` id and the node's
    ``field`` when it concerns one (``digits.1``; ``start`` for the flow's start), and what is wrong: the English
    ``message`` and, for the graph's problems, its ``code`` and ``params`` (``voice.ivr.validate.MESSAGES``)."""

    path: str
    node: str | None
    field: str | None
    message: str
    code: str | None = attribute(default=None, compare=False)
    params: Mapping[str, str] = attribute(default_factory=dict, compare=False)

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"path": self.path, "node": self.node, "field": self.field, "message": self.message}
        if self.code:
            found |= {"code": self.code, "params": dict(self.params)}
        return found

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def check_flow(
    definition: Mapping[str, Any], prompts: Collection[str], queues: Collection[str]
) -> tuple[Flow | None, list[FlowProblem]]:
    """The flow and its problems: its shape first (``Flow``), then, if the shape holds, ``voice.ivr.validate``
    (unknown nodes, missing prompts, unknown queues, unreachable nodes, loops without an exit). The flow is None
    when its shape is wrong; it may be saved only when the list is empty."""
    try:
        flow = Flow.model_validate(definition)
    except ValidationError as exc:
        return None, [_shape_problem(definition, error) for error in exc.errors()]
    return flow, [_graph_problem(flow, error) for error in validate(flow, set(prompts), set(queues))]


def _graph_problem(flow: Flow, error: FlowError) -> FlowProblem:
    head, _, rest = error.path.partition(".")
    if not head.startswith("nodes["):
        return FlowProblem(error.path, error.node, error.path, error.message, error.code or None, error.params)
    return FlowProblem(error.path, error.node, rest or None, error.message, error.code or None, error.params)


def _shape_problem(definition: Mapping[str, Any], error: Any) -> FlowProblem:
    loc: Sequence[int | str] = error["loc"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if len(loc) < 2 or loc[0] != "nodes" or not isinstance(loc[1], int):
        path = ".".join(str(part) for part in loc) or "definition"
        return FlowProblem(path, None, path if loc else None, message)
    raw = _raw_node(definition, loc[1])
    rest = [str(part) for part in loc[2:] if part != "[key]"]
    if rest and rest[0] == raw.get("type"):
        rest = rest[1:]  # the union's tag: the node's own type, not a field
    if not rest and str(error["type"]).startswith("union_tag"):
        rest = ["type"]
    field = ".".join(rest) or None
    node_id = raw.get("id")
    path = f"nodes[{loc[1]}]" + (f".{field}" if field else "")
    return FlowProblem(path, node_id if isinstance(node_id, str) else None, field, message)


def _raw_node(definition: Mapping[str, Any], index: int) -> Mapping[str, Any]:
    nodes = definition.get("nodes")
    node = nodes[index] if isinstance(nodes, list) and 0 <= index < len(nodes) else None
    return node if isinstance(node, dict) else {}
