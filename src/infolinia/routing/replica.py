"""A client's copy of one tenant's routing state: a snapshot, then every later ``routing.*`` event applied in
``seq`` order. Pure: feed it the JSON the API sends (``GET /routing/snapshot``, then the event stream).

Events are applied by their ``after`` views alone (absolute states, so applying is idempotent); the derived fields
(positions, waiting counts, agents by state) are computed the same way the server computes its snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infolinia.routing.views import After, AgentView, QueueView, Snapshot, TaskView, assemble


class Replica:
    def __init__(self, snapshot: Snapshot | Mapping[str, Any]) -> None:
        snap = snapshot if isinstance(snapshot, Snapshot) else Snapshot.model_validate(snapshot)
        self.seq = snap.seq
        self.tenant_id = snap.tenant_id
        self.tasks = {t.id: TaskView(**t.model_dump(exclude={"position"})) for t in snap.tasks}
        self.agents: dict[int, AgentView] = {a.id: a for a in snap.agents}
        self.queues = {q.id: QueueView(**q.model_dump(exclude={"waiting", "agents"})) for q in snap.queues}

    def apply(self, event: Mapping[str, Any]) -> bool:
        """Apply one event of the stream; False when it is not for this copy (older, another tenant, not routing)."""
        if event["seq"] <= self.seq:
            return False
        self.seq = event["seq"]
        if event["tenant_id"] != self.tenant_id or not str(event["type"]).startswith("routing."):
            return False
        after = After.model_validate(event["data"]["after"])
        self.tasks.update((t.id, t) for t in after.tasks)
        for task_id in after.done_tasks:
            self.tasks.pop(task_id, None)
        self.agents.update((a.id, a) for a in after.agents)
        for agent_id in after.gone_agents:
            self.agents.pop(agent_id, None)
        self.queues.update((q.id, q) for q in after.queues)
        return True

    def snapshot(self) -> Snapshot:
        """The copy in the shape of the server's snapshot (``seq``: the newest event applied)."""
        return assemble(
            self.seq, self.tenant_id, list(self.tasks.values()), list(self.agents.values()), list(self.queues.values())
        )
