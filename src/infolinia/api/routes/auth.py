"""Login (cookie for browsers, bearer token for programs), logout, the current user, personal API tokens."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from infolinia.api.credentials import SESSION_COOKIE
from infolinia.api.deps import Access, access, client_ip
from infolinia.auth import actions
from infolinia.errors import RateLimited, Unauthorized
from infolinia.schemas import LoginIn, LoginOut, TokenCreated, TokenIn, TokenOut, UserOut
from infolinia.store.models import AuthToken, TokenKind, User
from infolinia.store.uow import Who, transaction

router = APIRouter(tags=["auth"])


async def user_view(access_: Access, user: User) -> UserOut:
    out = UserOut.model_validate(user)
    out.team_ids = await actions.team_ids(access_.session, user.id)
    return out


@router.post("/auth/login", response_model=LoginOut)
async def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
    ctx = request.app.state.ctx
    ip = client_ip(request) or "?"
    keys = (f"email:{body.email}|ip:{ip}", f"ip:{ip}")
    wait = max(ctx.login_limiter.check(keys[0]), ctx.ip_limiter.check(keys[1]))
    if wait > 0:
        raise RateLimited("too many failed logins; try again later", retry_after=wait)
    async with ctx.db.session() as s:
        async with transaction(s, ctx.bus, Who(None, body.email, ip)) as tx:
            user = await actions.check_password(tx, body.email, body.password)
            if user is not None:
                lifetime = timedelta(hours=ctx.settings.session_hours)
                token, secret = await actions.issue_token(tx, user, TokenKind.SESSION, "browser", lifetime)
        if user is None:
            ctx.login_limiter.record(keys[0])
            ctx.ip_limiter.record(keys[1])
            raise Unauthorized("wrong e-mail or password", code="bad_credentials")
        ctx.login_limiter.reset(keys[0])
        assert token.expires_at is not None
        response.set_cookie(
            SESSION_COOKIE,
            secret,
            max_age=int(lifetime.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=ctx.settings.cookie_secure,
            path="/",
        )
        out = UserOut.model_validate(user)
        out.team_ids = await actions.team_ids(s, user.id)
        return LoginOut(token=secret, expires_at=token.expires_at, user=out)


@router.post("/auth/logout", status_code=204)
async def logout(response: Response, a: Access = Depends(access("self"))) -> None:
    token = await a.session.get(AuthToken, a.actor.token_id)
    if token is not None:
        async with a.write() as tx:
            await actions.revoke_token(tx, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", response_model=UserOut)
async def me(a: Access = Depends(access("self"))) -> UserOut:
    user = await a.session.get(User, a.actor.user_id)
    assert user is not None
    return await user_view(a, user)


@router.get("/tokens", response_model=list[TokenOut])
async def list_tokens(a: Access = Depends(access("self"))) -> list[TokenOut]:
    rows = await a.session.scalars(
        select(AuthToken)
        .where(
            AuthToken.user_id == a.actor.user_id,
            AuthToken.kind == TokenKind.API,
            AuthToken.revoked_at.is_(None),
        )
        .order_by(AuthToken.id)
    )
    return [TokenOut.model_validate(t) for t in rows]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
async def create_token(body: TokenIn, a: Access = Depends(access("self"))) -> TokenCreated:
    user = await a.session.get(User, a.actor.user_id)
    assert user is not None
    async with a.write() as tx:
        token, secret = await actions.create_api_token(tx, user, body)
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: int, a: Access = Depends(access("self"))) -> None:
    async with a.write() as tx:
        await actions.revoke_token(tx, a.obj("token_id"))
