"""Users, teams, queues and agent profiles of the caller's tenant."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from infolinia.agents import actions as agent_actions
from infolinia.api.deps import Access, access
from infolinia.api.routes.auth import user_view
from infolinia.auth import actions as user_actions
from infolinia.auth.actions import team_ids
from infolinia.schemas import (
    AgentOut,
    AgentProfileIn,
    Cursor,
    Page,
    QueueIn,
    QueueOut,
    QueuePatch,
    TeamIn,
    TeamOut,
    UserIn,
    UserOut,
    UserPatch,
)
from infolinia.store.models import AgentProfile, Queue, Team, User
from infolinia.tenants import actions as tenant_actions

router = APIRouter()


@router.get("/users", response_model=Page[UserOut], tags=["users"])
async def list_users(
    a: Access = Depends(access("users.read")), limit: int = Query(50, ge=1, le=200), after: Cursor | None = None
) -> Page[UserOut]:
    query = select(User).where(User.tenant_id == a.tenant.id).order_by(User.id).limit(limit)
    if after is not None:
        query = query.where(User.id > after)
    users = list(await a.session.scalars(query))
    return Page(
        items=[await user_view(a, u) for u in users],
        next_cursor=users[-1].id if len(users) == limit else None,
    )


@router.post("/users", response_model=UserOut, status_code=201, tags=["users"])
async def create_user(body: UserIn, a: Access = Depends(access("users.manage"))) -> UserOut:
    async with a.write() as tx:
        user = await user_actions.create_user(
            tx, a.tenant.id, body, a.actor, min_password_length=a.settings.min_password_length
        )
    return await user_view(a, user)


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
async def get_user(user_id: int, a: Access = Depends(access("users.read"))) -> UserOut:
    return await user_view(a, a.obj("user_id"))


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
async def update_user(user_id: int, body: UserPatch, a: Access = Depends(access("users.manage"))) -> UserOut:
    async with a.write() as tx:
        user = await user_actions.update_user(
            tx, a.obj("user_id"), body, a.actor, min_password_length=a.settings.min_password_length
        )
    await a.routing.reload_agents([user.id])  # teams, activation: which queues it serves, whether it works at all
    return await user_view(a, user)


@router.get("/teams", response_model=list[TeamOut], tags=["users"])
async def list_teams(a: Access = Depends(access("teams.read"))) -> list[Team]:
    return list(await a.session.scalars(select(Team).where(Team.tenant_id == a.tenant.id).order_by(Team.id)))


@router.post("/teams", response_model=TeamOut, status_code=201, tags=["users"])
async def create_team(body: TeamIn, a: Access = Depends(access("teams.manage"))) -> Team:
    async with a.write() as tx:
        return await tenant_actions.create_team(tx, a.tenant.id, body)


@router.get("/teams/{team_id}", response_model=TeamOut, tags=["users"])
async def get_team(team_id: int, a: Access = Depends(access("teams.read"))) -> Team:
    team: Team = a.obj("team_id")
    return team


@router.get("/queues", response_model=list[QueueOut], tags=["queues"])
async def list_queues(a: Access = Depends(access("queues.read"))) -> list[Queue]:
    return list(await a.session.scalars(select(Queue).where(Queue.tenant_id == a.tenant.id).order_by(Queue.id)))


@router.post("/queues", response_model=QueueOut, status_code=201, tags=["queues"])
async def create_queue(body: QueueIn, a: Access = Depends(access("queues.manage"))) -> Queue:
    async with a.write() as tx:
        queue = await tenant_actions.create_queue(tx, a.tenant.id, body)
    await a.routing.reload_queues([queue.id])
    return queue


@router.get("/queues/{queue_id}", response_model=QueueOut, tags=["queues"])
async def get_queue(queue_id: int, a: Access = Depends(access("queues.read"))) -> Queue:
    queue: Queue = a.obj("queue_id")
    return queue


@router.patch("/queues/{queue_id}", response_model=QueueOut, tags=["queues"])
async def update_queue(queue_id: int, body: QueuePatch, a: Access = Depends(access("queues.manage"))) -> Queue:
    async with a.write() as tx:
        queue = await tenant_actions.update_queue(tx, a.obj("queue_id"), body)
    await a.routing.reload_queues([queue.id])
    return queue


async def agent_view(a: Access, user: User, profile: AgentProfile | None) -> AgentOut:
    return AgentOut(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        extension=profile.extension if profile else None,
        has_sip_password=bool(profile and profile.sip_ha1_md5),
        skills=profile.skills if profile else {},
        languages=profile.languages if profile else [],
        team_ids=await team_ids(a.session, user.id),
        capacity=agent_actions.capacity(profile),
        voice_exclusive=profile.voice_exclusive if profile else True,
    )


@router.get("/agents", response_model=list[AgentOut], tags=["agents"])
async def list_agents(a: Access = Depends(access("agents.read"))) -> list[AgentOut]:
    rows = await a.session.execute(
        select(User, AgentProfile)
        .join(AgentProfile, AgentProfile.user_id == User.id)
        .where(User.tenant_id == a.tenant.id)
        .order_by(User.id)
    )
    return [await agent_view(a, user, profile) for user, profile in rows]


@router.get("/agents/{user_id}", response_model=AgentOut, tags=["agents"])
async def get_agent(user_id: int, a: Access = Depends(access("agents.read"))) -> AgentOut:
    user: User = a.obj("user_id")
    return await agent_view(a, user, await a.session.get(AgentProfile, user.id))


@router.put("/agents/{user_id}", response_model=AgentOut, tags=["agents"])
async def set_agent(user_id: int, body: AgentProfileIn, a: Access = Depends(access("agents.manage"))) -> AgentOut:
    user: User = a.obj("user_id")
    async with a.write() as tx:
        profile = await agent_actions.set_profile(tx, user, a.tenant, body)
    await a.routing.reload_agents([user.id])
    return await agent_view(a, user, profile)
