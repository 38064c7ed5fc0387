"""Checks a flow before it is saved: every problem found, each with where it is and what is wrong.

Graph checks work on the edges between known nodes. A node is an *exit* when the call leaves the IVR there
(``flow.is_exit``). Every node reachable from ``start`` must be able to reach an exit: a loop is fine when one of
its nodes has a way out (a menu whose other branches lead to a queue), and an error when none has (two plays
pointing at each other). Nodes that cannot reach an exit are grouped by strongly connected component, so a loop
is reported once, naming its nodes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from infolinia.graphs import reachable as reach_from
from infolinia.voice.ivr.flow import Flow, MenuNode, Node, is_exit, prompts_of, queues_of, targets

__all__ = ["FlowError", "validate"]


@dataclass(frozen=True)
class FlowError:
    """One problem: ``path`` says where (``nodes[3].digits.1``, ``start``), ``node`` the node id if any."""

    path: str
    node: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def validate(flow: Flow, prompts: set[str], queues: set[str]) -> list[FlowError]:
    """All problems of ``flow`` given the tenant's prompt names and queues; an empty list when it is sound."""
    errors: list[FlowError] = []
    index: dict[str, int] = {}
    for i, node in enumerate(flow.nodes):
        if node.id in index:
            errors.append(FlowError(f"nodes[{i}].id", node.id, f"duplicate node id {node.id!r}"))
        else:
            index[node.id] = i
    if flow.start not in index:
        errors.append(FlowError("start", None, f"start names an unknown node {flow.start!r}"))
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
    for field, target in targets(node):
        if target not in index:
            errors.append(FlowError(f"{where}.{field}", node.id, f"{node.id!r} goes to an unknown node {target!r}"))
    for field, name in prompts_of(node):
        if name not in prompts:
            errors.append(FlowError(f"{where}.{field}", node.id, f"{node.id!r} plays a missing prompt {name!r}"))
    for field, queue in queues_of(node):
        if queue not in queues:
            errors.append(FlowError(f"{where}.{field}", node.id, f"{node.id!r} names an unknown queue {queue!r}"))
    if isinstance(node, MenuNode) and not node.digits:
        errors.append(FlowError(f"{where}.digits", node.id, f"menu {node.id!r} offers no digit to press"))
    return errors


def _graph_errors(flow: Flow, index: Mapping[str, int], edges: Mapping[str, list[str]]) -> list[FlowError]:
    errors: list[FlowError] = []
    reachable = reach_from([flow.start], edges)
    for node_id, i in index.items():
        if node_id not in reachable:
            errors.append(FlowError(f"nodes[{i}]", node_id, f"{node_id!r} cannot be reached from the start"))
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
            message = f"loop {ring} has no way out: none of its nodes leads to an exit"
        elif not edges[first]:
            message = f"{first!r} has no way out"
        else:
            message = f"{first!r} leads only into loops without an exit"
        errors.append(FlowError(path, first, message))
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
