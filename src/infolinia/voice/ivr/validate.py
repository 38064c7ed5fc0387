"""Checks a flow before it is saved: every problem found, each with where it is and what is wrong.

Graph checks work on the edges between known nodes. A node is an *exit* when the call leaves the IVR there
(``flow.is_exit``). Every node reachable from ``start`` must be able to reach an exit: a loop is fine when one of
its nodes has a way out (a menu whose other branches lead to a queue), and an error when none has (two plays
pointing at each other). Nodes that cannot reach an exit are grouped by strongly connected component, so a loop
is reported once, naming its nodes.

Each problem carries a ``code`` and its ``params`` besides the English ``message`` (``MESSAGES[code] % params``), so
a page in another language can say it in its own words (the console translates ``MESSAGES``' texts).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from infolinia.graphs import reachable as reach_from
from infolinia.voice.ivr.flow import Flow, MenuNode, Node, is_exit, prompts_of, queues_of, targets

__all__ = ["MESSAGES", "FlowError", "validate"]

#: the problems' texts by code; their parameters are quoted names (``'main_menu'``) or a loop (``a -> b -> a``)
MESSAGES: Final = {
    "duplicate_id": "duplicate node id %(id)s",
    "unknown_start": "start names an unknown node %(target)s",
    "unknown_target": "%(node)s goes to an unknown node %(target)s",
    "missing_prompt": "%(node)s plays a missing prompt %(prompt)s",
    "unknown_queue": "%(node)s names an unknown queue %(queue)s",
    "no_digits": "menu %(node)s offers no digit to press",
    "unreachable": "%(node)s cannot be reached from the start",
    "loop_without_exit": "loop %(ring)s has no way out: none of its nodes leads to an exit",
    "no_way_out": "%(node)s has no way out",
    "only_loops": "%(node)s leads only into loops without an exit",
}


@dataclass(frozen=True)
class FlowError:
    """One problem: ``path`` says where (``nodes[3].digits.1``, ``start``), ``node`` the node id if any; ``code`` and
    ``params`` what ``message`` says (``MESSAGES``)."""

    path: str
    node: str | None
    message: str
    code: str = field(default="", compare=False)
    params: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, path: str, node: str | None, code: str, /, **params: str) -> FlowError:
        return cls(path, node, MESSAGES[code] % params, code, params)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def validate(flow: Flow, prompts: set[str], queues: set[str]) -> list[FlowError]:
    """All problems of ``flow`` given the tenant's prompt names and queues; an empty list when it is sound."""
    errors: list[FlowError] = []
    index: dict[str, int] = {}
    for i, node in enumerate(flow.nodes):
        if node.id in index:
            errors.append(FlowError.of(f"nodes[{i}].id", node.id, "duplicate_id", id=repr(node.id)))
        else:
            index[node.id] = i
    if flow.start not in index:
        errors.append(FlowError.of("start", None, "unknown_start", target=repr(flow.start)))
    edges: dict[str, list[str]] = {node_id: [] for node_id in index}
    for i, node in enumerate(flow.nodes):
        errors.extend(_node_errors(i, node, index, prompts, queues))
        if index[node.id] == i:
            edges[node.id] = [target for _, target in targets(node) if target in index]
    if flow.start in index:
        errors.extend(_graph_errors(flow, index, edges))
    return errors


def _node_errors(i: int, node: Node, index: Mapping[str, int], prompts: set[str], queues: set[str]) -> list[FlowError]:
    where = f"nodes[{i}]"
    errors: list[FlowError] = []
    for name, target in targets(node):
        if target not in index:
            errors.append(
                FlowError.of(f"{where}.{name}", node.id, "unknown_target", node=repr(node.id), target=repr(target))
            )
    for name, prompt in prompts_of(node):
        if prompt not in prompts:
            errors.append(
                FlowError.of(f"{where}.{name}", node.id, "missing_prompt", node=repr(node.id), prompt=repr(prompt))
            )
    for name, queue in queues_of(node):
        if queue not in queues:
            errors.append(
                FlowError.of(f"{where}.{name}", node.id, "unknown_queue", node=repr(node.id), queue=repr(queue))
            )
    if isinstance(node, MenuNode) and not node.digits:
        errors.append(FlowError.of(f"{where}.digits", node.id, "no_digits", node=repr(node.id)))
    return errors


def _graph_errors(flow: Flow, index: Mapping[str, int], edges: Mapping[str, list[str]]) -> list[FlowError]:
    errors: list[FlowError] = []
    reachable = reach_from([flow.start], edges)
    for node_id, i in index.items():
        if node_id not in reachable:
            errors.append(FlowError.of(f"nodes[{i}]", node_id, "unreachable", node=repr(node_id)))
    reverse: dict[str, list[str]] = {node_id: [] for node_id in edges}
    for source, outs in edges.items():
        for target in outs:
            reverse[target].append(source)
    exits = [node.id for i, node in enumerate(flow.nodes) if index[node.id] == i and is_exit(node)]
    leads_out = reach_from(exits, reverse)
    trapped = {node_id for node_id in reachable if node_id not in leads_out}
    components = [(min(index[n] for n in component), component) for component in _components(trapped, edges)]
    for _, component in sorted(components):
        first = min(component, key=lambda node_id: index[node_id])
        path = f"nodes[{index[first]}]"
        looped = len(component) > 1 or first in edges[first]
        if looped:
            ring = " -> ".join(_cycle_order(component, first, edges))
            errors.append(FlowError.of(path, first, "loop_without_exit", ring=ring))
        elif not edges[first]:
            errors.append(FlowError.of(path, first, "no_way_out", node=repr(first)))
        else:
            errors.append(FlowError.of(path, first, "only_loops", node=repr(first)))
    return errors


def _components(nodes: set[str], edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of the subgraph on ``nodes`` (iterative; sorted for stable output)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    for root in sorted(nodes):
        if root in order:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, pos = work.pop()
            if pos == 0:
                order[node] = low[node] = len(order)
                stack.append(node)
                on_stack.add(node)
            outs = [t for t in edges[node] if t in nodes]
            if pos < len(outs):
                work.append((node, pos + 1))
                target = outs[pos]
                if target not in order:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], order[target])
                continue
            if low[node] == order[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                result.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return result


def _cycle_order(component: list[str], first: str, edges: Mapping[str, list[str]]) -> list[str]:
    """A walk from ``first`` through the component back to ``first`` (a shortest cycle through it)."""
    members = set(component)
    back: dict[str, str] = {}
    todo = deque([first])
    while todo:
        node = todo.popleft()
        for target in edges[node]:
            if target == first:
                walk = [first]
                step = node
                while step != first:
                    walk.insert(1, step)
                    step = back[step]
                return [*walk, first]
            if target in members and target not in back:
                back[target] = node
                todo.append(target)
    return [first, first]
