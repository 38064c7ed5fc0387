"""Login, logout and the language switch. Logging in goes through the API's own login (``api/routes/auth.login``:
the same password check, rate limits, audit and session cookie); the form is guarded by a double-submit CSRF
token, logout by the session's."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from infolinia.api.routes import auth as auth_api
from infolinia.errors import DomainError, RateLimited
from infolinia.schemas import LoginIn
from infolinia.store.models import Role
from infolinia.web.ui import i18n, security
from infolinia.web.ui.gate import form, gate, page, safe_next
from infolinia.web.ui.render import render, viewer

router = APIRouter(include_in_schema=False)

LANG_MAX_AGE: Final = 365 * 24 * 3600


def _login_page(
    request: Request, token: str, status: int = 200, problem: str | None = None, email: str = ""
) -> Response:
    seen = viewer(request)
    target = safe_next(request.query_params.get("next"))
    response = render(request, seen, "login.html", status, token=token, problem=problem, email=email, next=target)
    response.set_cookie(security.CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
                        secure=request.app.state.ctx.settings.cookie_secure)  # fmt: skip
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _login_page(request, request.cookies.get(security.CSRF_COOKIE) or security.login_token())


#: where each role lands after a login that asked for no page
HOME: Final = {Role.AGENT: "/desk", Role.SUPERVISOR: "/wallboard"}


@router.post("/login")
async def login(request: Request) -> Response:
    fields = await form(request)
    token = request.cookies.get(security.CSRF_COOKIE)
    email = (fields.get("email") or [""])[0][:254]
    seen = viewer(request)
    if not security.same(token, (fields.get(security.CSRF_FIELD) or [""])[0]):
        problem = seen.gettext("The form expired. Please log in again.")
        return _login_page(request, security.login_token(), 403, problem, email)
    asked = (fields.get("next") or [""])[0]
    response = RedirectResponse(safe_next(asked), status_code=303)
    try:
        body = LoginIn(email=email, password=(fields.get("password") or [""])[0])
        out = await auth_api.login(body, request, response)
        if not asked:  # no page asked for: where the role works
            response.headers["location"] = HOME.get(out.user.role, "/admin")
    except ValidationError:
        return _login_page(request, token or "", 401, seen.gettext("Wrong e-mail or password."), email)
    except RateLimited:
        return _login_page(request, token or "", 429, seen.gettext("Too many failed logins. Try again later."), email)
    except DomainError:
        return _login_page(request, token or "", 401, seen.gettext("Wrong e-mail or password."), email)
    response.delete_cookie(security.CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
@page
async def logout(request: Request) -> Response:
    async with gate(request, "self") as p:
        await form(request, p)
        response = RedirectResponse("/login", status_code=303)
        await auth_api.logout(response, p.access)
    return response


@router.get("/ui/language")
async def language(request: Request) -> Response:
    """Switch the UI's language (``to``: a language code) and go back to ``next``."""
    chosen = request.query_params.get("to", "")
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    if chosen not in i18n.LANGUAGES:
        return response  # an unknown language changes nothing
    response.set_cookie(i18n.LANG_COOKIE, chosen, max_age=LANG_MAX_AGE, samesite="lax", path="/",
                        secure=request.app.state.ctx.settings.cookie_secure)  # fmt: skip
    return response
