"""A tenant's center as the simulation takes it, from its configuration and its contact history (read only):

- queues as configured (strategy, service-level threshold, short abandons, wrap-up);
- agents: every active agent with a profile, on duty in every interval; agents alike in skills, languages and
  queues form one group;
- volumes: the inbound voice contacts of each queue over the last ``days`` days, per interval of the day (in the
  tenant's time zone), averaged over those days, times ``scale``;
- handle times: resampled from the answered contacts' talk time (answer to end), exponential with the queue's mean
  when fewer than ``MIN_SAMPLES`` were answered (180 s with none);
- patience: exponential, its mean estimated as the waiting time of all contacts over the number that hung up
  (the maximum-likelihood estimate when patience is exponential); none when nobody hung up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from infolinia.config import database_url_from_env
from infolinia.errors import DomainError
from infolinia.routing.specs import read_agents, read_queues
from infolinia.store import db as store
from infolinia.store.models import Channel, Direction, Interaction, Tenant
from infolinia.wfm.sim_schemas import CenterIn

MIN_SAMPLES = 30
MAX_SAMPLES = 100_000


async def center_from_history(
    slug: str, db: str | None, days: int, interval_minutes: int, scale: float, now: datetime | None = None
) -> CenterIn:
    if days < 1 or scale < 0 or interval_minutes <= 0 or 1440 % interval_minutes:
        raise DomainError("days >= 1, scale >= 0, and an interval that divides a day")
    database = store.Database(database_url_from_env(db))
    try:
        async with database.session() as s:
            tenant = await s.scalar(select(Tenant).where(Tenant.slug == slug))
            if tenant is None:
                raise DomainError(f"no tenant {slug!r}")
            queues = await read_queues(s, tenant_ids=[tenant.id])
            agents = await read_agents(s, tenant_ids=[tenant.id])
            end = now or datetime.now(UTC)
            rows = (
                await s.execute(
                    select(
                        Interaction.queue_id,
                        Interaction.created_at,
                        Interaction.queued_at,
                        Interaction.answered_at,
                        Interaction.ended_at,
                    ).where(
                        Interaction.tenant_id == tenant.id,
                        Interaction.channel == Channel.VOICE,
                        Interaction.direction == Direction.INBOUND,
                        Interaction.queue_id.is_not(None),
                        Interaction.created_at >= end - timedelta(days=days),
                        Interaction.created_at < end,
                    )
                )
            ).all()
            zone = ZoneInfo(tenant.timezone)
    finally:
        await database.dispose()
    if not queues:
        raise DomainError(f"tenant {slug!r} has no queues")
    per_day = 1440 // interval_minutes
    names = {q.id: q.name if [p.name for p in queues].count(q.name) == 1 else f"{q.name} #{q.id}" for q in queues}
    volume = {q.id: [0.0] * per_day for q in queues}
    talk: dict[int, list[float]] = {q.id: [] for q in queues}
    waited = dict.fromkeys(volume, 0.0)
    gone = dict.fromkeys(volume, 0)
    for queue_id, created, queued, answered, ended in rows:
        if queue_id not in volume:
            continue
        local = _aware(created).astimezone(zone)
        volume[queue_id][(local.hour * 60 + local.minute) // interval_minutes] += scale / days
        start = _aware(queued or created)
        if answered is not None:
            waited[queue_id] += max(0.0, (_aware(answered) - start).total_seconds())
            if ended is not None and len(talk[queue_id]) < MAX_SAMPLES:
                talk[queue_id].append(max(0.0, (_aware(ended) - _aware(answered)).total_seconds()))
        elif ended is not None:
            waited[queue_id] += max(0.0, (_aware(ended) - start).total_seconds())
            gone[queue_id] += 1
    queue_bodies: list[dict[str, Any]] = []
    for q in queues:
        samples = talk[q.id]
        if len(samples) >= MIN_SAMPLES:
            handle: dict[str, Any] = {"kind": "empirical", "samples": samples}
        else:
            handle = {"kind": "exponential", "mean_s": (sum(samples) / len(samples)) if samples else 180.0}
            handle["mean_s"] = max(handle["mean_s"], 1.0)
        queue_bodies.append({
            "name": names[q.id], "calls": volume[q.id], "handle": handle,
            "patience_s": waited[q.id] / gone[q.id] if gone[q.id] and waited[q.id] > 0 else None,
            "strategy": q.strategy, "sl_seconds": q.sl_seconds, "short_abandon_s": q.short_abandon_s,
            "wrapup_s": q.wrapup_s,
        })  # fmt: skip
    alike: dict[tuple[Any, ...], int] = {}
    for a in agents.values():
        if not a.queues:
            continue
        key = (tuple(sorted(a.skills.items())), tuple(sorted(a.languages)), tuple(sorted(a.queues)))
        alike[key] = alike.get(key, 0) + 1
    if not alike:
        raise DomainError(f"tenant {slug!r} has no active agents serving a queue")
    groups = [
        {"name": f"group {i + 1}", "agents": count, "skills": {k: v for k, v in skills if v > 0},
         "languages": list(languages), "queues": [names[qid] for qid in queue_ids]}
        for i, ((skills, languages, queue_ids), count) in enumerate(sorted(alike.items()))
    ]  # fmt: skip
    return CenterIn.model_validate({"interval_minutes": interval_minutes, "queues": queue_bodies, "groups": groups})


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
