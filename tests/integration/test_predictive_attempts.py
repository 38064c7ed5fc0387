"""Predictive attempts in the database: the abandon rate counted per calendar day in the tenant's time zone and over
30 days from the stored rows, the answer rate, an abandoned attempt's effect on its contact and the event it
publishes, and the calls a stopped process left unfinished, closed at the next start."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.outbound import attempts
from infolinia.outbound.predictive import abandon_stats, dial_stats
from infolinia.outbound.targets import Target
from infolinia.store.models import Campaign, CampaignAttempt, CampaignContact, Queue, RoutingTask, Tenant
from infolinia.store.uow import Who, write

TEST = Who(None, "test")


async def draft_campaign(center: Infolinia, numbers: int = 1) -> tuple[Campaign, list[CampaignContact], Tenant]:
    """A draft predictive campaign of the demo tenant (the runner leaves drafts alone) with ``numbers`` contacts."""
    async with write(center.db, None, TEST) as tx:
        tenant = await tx.session.scalar(select(Tenant).where(Tenant.slug == "demo"))
        assert tenant is not None
        queue = await tx.session.scalar(select(Queue).where(Queue.tenant_id == tenant.id))
        assert queue is not None
        campaign = Campaign(
            tenant_id=tenant.id, name=f"Predictive {uuid.uuid4().hex[:8]}", purpose="service", queue_id=queue.id,
            mode="predictive", status="draft",
        )  # fmt: skip
        tx.session.add(campaign)
        await tx.session.flush()
        contacts = [
            CampaignContact(tenant_id=tenant.id, campaign_id=campaign.id, number=f"+4860070{n:04d}", status="calling")
            for n in range(numbers)
        ]
        tx.session.add_all(contacts)
        await tx.session.flush()
        return campaign, contacts, tenant


async def add_attempt(center: Infolinia, campaign: Campaign, started: datetime, outcome: str | None) -> None:
    async with write(center.db, None, TEST) as tx:
        answered = started + timedelta(seconds=8) if outcome in ("connected", "abandoned") else None
        tx.session.add(
            CampaignAttempt(
                tenant_id=campaign.tenant_id,
                campaign_id=campaign.id,
                number="+48600700999",
                started_at=started,
                answered_at=answered,
                outcome=outcome,
            )
        )


def local(tenant: Tenant, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tenant.timezone)).astimezone(UTC)


async def test_the_rate_is_counted_per_local_day_and_over_thirty_days(center: Infolinia) -> None:
    campaign, _, tenant = await draft_campaign(center)
    assert tenant.timezone == "Europe/Warsaw"
    for started, outcome in [
        (local(tenant, 2026, 12, 6, 23, 30), "abandoned"),  # yesterday there (22:30 UTC)
        (local(tenant, 2026, 12, 7, 0, 30), "connected"),  # today there, though still the 6th in UTC
        (local(tenant, 2026, 12, 7, 9, 0), "abandoned"),
        (local(tenant, 2026, 12, 7, 9, 5), "no_answer"),  # not answered: not counted
        (local(tenant, 2026, 12, 7, 9, 6), None),  # under way: not counted yet
        (local(tenant, 2026, 11, 6, 9, 0), "abandoned"),  # 31 days ago
    ]:
        await add_attempt(center, campaign, started, outcome)
    now = local(tenant, 2026, 12, 7, 12, 0)
    async with center.db.session() as s:
        stats = await abandon_stats(s, campaign.id, tenant.timezone, now)
        dial = await dial_stats(s, campaign.id)
    assert stats.day == "2026-12-07"
    assert (stats.today.answered, stats.today.abandoned) == (2, 1)
    assert (stats.last_30_days.answered, stats.last_30_days.abandoned) == (3, 2)
    # five finished, four answered, over the prior of 20 % weighted as 20 dials
    assert dial.answer_rate == pytest.approx((4 + 0.2 * 20) / (5 + 20))
    assert dial.ring_s == pytest.approx((4 * 8 + 10 * 5) / (4 + 5))
    # just after local midnight the day starts again
    async with center.db.session() as s:
        tomorrow = await abandon_stats(s, campaign.id, tenant.timezone, local(tenant, 2026, 12, 8, 0, 1))
    assert (tomorrow.day, tomorrow.today.answered, tomorrow.last_30_days.answered) == ("2026-12-08", 0, 3)


async def test_an_abandoned_contact_waits_for_the_next_local_day_and_the_rate_is_published(
    center: Infolinia,
) -> None:
    campaign, (contact,), tenant = await draft_campaign(center)
    with center.bus.subscribe(wanted=lambda e: e.type == "campaign.abandon_rate") as sub:
        at = local(tenant, 2026, 12, 7, 23, 59)  # a minute before local midnight
        started = at - timedelta(seconds=60)  # a fixed day, whatever day the test runs on
        target = Target("contact", contact.id, tenant.id, contact.number, None, campaign.queue_id, None, started)
        attempt = await attempts.start(center.db, target, campaign.id, started)
        task = await attempts.answered(center.db, attempt, started + timedelta(seconds=5), campaign.queue_id)
        assert task is not None and task.priority == 100
        await attempts.finish(center.db, center.bus, attempt, "abandoned", at=at)
        event = sub.queue.get_nowait()
    assert event.data == {
        "id": campaign.id, "day": "2026-12-07", "cap": 0.03,
        "today": {"answered": 1, "abandoned": 1, "rate": 1.0},
        "last_30_days": {"answered": 1, "abandoned": 1, "rate": 1.0},
    }  # fmt: skip
    async with center.db.session() as s:
        row = await s.get(CampaignContact, contact.id)
        task_row = await s.get(RoutingTask, task.id)
        attempt_row = await s.get(CampaignAttempt, attempt)
    assert row is not None and task_row is not None and attempt_row is not None
    assert (row.status, row.attempts, row.last_outcome, row.routing_task_id) == ("pending", 1, "abandoned", None)
    assert row.next_attempt_at == local(tenant, 2026, 12, 8, 0, 0)  # a minute later: the next day there
    assert task_row.state == "done"
    assert (attempt_row.outcome, attempt_row.ended_at) == ("abandoned", at)


async def test_calls_left_unfinished_are_closed_at_the_next_start(center: Infolinia) -> None:
    campaign, (ringing, answered, untouched), tenant = await draft_campaign(center, 3)
    now = datetime.now(UTC)
    ids = []
    for contact in (ringing, answered):
        target = Target("contact", contact.id, tenant.id, contact.number, None, campaign.queue_id, None, now)
        ids.append(await attempts.start(center.db, target, campaign.id, now))
    task = await attempts.answered(center.db, ids[1], now, campaign.queue_id)
    assert task is not None
    assert await attempts.recover(center.db, None) >= 2
    async with center.db.session() as s:
        outcomes = [(await s.get(CampaignAttempt, i)).outcome for i in ids]  # type: ignore[union-attr]
        contacts = [await s.get(CampaignContact, c.id) for c in (ringing, answered, untouched)]
        task_row = await s.get(RoutingTask, task.id)
    assert outcomes == ["failed", "abandoned"]
    assert [c.status for c in contacts if c is not None] == ["pending", "pending", "pending"]
    assert contacts[1] is not None and contacts[1].next_attempt_at is not None  # abandoned: not again today
    assert contacts[2] is not None and contacts[2].attempts == 0  # taken, never dialed: simply pending again
    assert task_row is not None and task_row.state == "done"
