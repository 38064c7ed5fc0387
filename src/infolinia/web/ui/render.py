"""Rendering a UI page: one Jinja2 environment per language (autoescape on for every template, gettext installed,
Babel filters for dates and numbers), the request's viewer (who, which language, the CSRF token, the navigation its
role may see) and the response with the security headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from infolinia.access import Actor, can
from infolinia.api.credentials import SESSION_COOKIE
from infolinia.store.models import Tenant, User
from infolinia.web.ui import i18n, security

__all__ = ["NAV", "N_", "Viewer", "environment", "render", "viewer"]

TEMPLATES: Final = Path(__file__).with_name("templates")
STATIC_URL: Final = "/ui/static"


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


#: the navigation: (path, message id, the permission that shows it)
NAV: Final = (
    ("/admin", N_("Overview"), "self"),
    ("/desk", N_("Agent desk"), "tasks.handle"),
    ("/wallboard", N_("Wallboard"), "routing.monitor"),
    ("/admin/users", N_("Users and agents"), "users.read"),
    ("/admin/queues", N_("Queues"), "queues.read"),
    ("/admin/ivr", N_("IVR flows"), "telephony.read"),
    ("/admin/numbers", N_("Phone numbers"), "telephony.read"),
    ("/admin/trunks", N_("SIP trunks"), "telephony.read"),
    ("/admin/kb", N_("Knowledge base"), "kb.manage"),
    ("/admin/scripts", N_("Agent scripts"), "scripts.manage"),
    ("/admin/prompts", N_("Voice prompts"), "prompts.read"),
    ("/admin/campaigns", N_("Campaigns"), "campaigns.read"),
    ("/admin/sla", N_("Case policy and SLA"), "tenants.update"),
    ("/reports", N_("Reports"), "reports.read"),
    ("/planning", N_("Planning"), "wfm.plan"),
    ("/admin/settings", N_("Settings"), "tenants.update"),
    ("/admin/tenants", N_("Tenants"), "tenants.create"),
)


@cache
def environment(language: str) -> Environment:
    """The templates of ``language``: autoescaped, strict about undefined names, translated."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.catalogue(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["datetime"] = lambda value, zone="UTC": i18n.datetime_text(value, language, zone)
    env.filters["number"] = lambda value: i18n.number_text(value, language)
    env.globals |= {"language": language, "languages": i18n.LANGUAGES, "static": STATIC_URL}
    return env


@dataclass
class Viewer:
    """Who looks at a page: the language always; the actor, their name and tenant once logged in (plain values,
    so a page can still be drawn after a failed write rolled the session back)."""

    language: str
    actor: Actor | None = None
    user_name: str = ""
    tenant_name: str = ""
    timezone: str = "UTC"
    csrf: str = ""
    nav: list[tuple[str, str]] = field(default_factory=list)

    def gettext(self, message: str) -> str:
        return i18n.catalogue(self.language).gettext(message)


def viewer(
    request: Request, actor: Actor | None = None, user: User | None = None, tenant: Tenant | None = None
) -> Viewer:
    language = i18n.choose(request.cookies.get(i18n.LANG_COOKIE), user.language if user else None,
                           request.headers.get("accept-language", ""))  # fmt: skip
    secret = request.cookies.get(SESSION_COOKIE)
    csrf = security.session_token(secret) if secret and actor else ""
    seen = Viewer(language, actor, user.display_name if user else "", tenant.name if tenant else "",
                  tenant.timezone if tenant else "UTC", csrf)  # fmt: skip
    if actor is not None:
        seen.nav = [(path, seen.gettext(label)) for path, label, permission in NAV if can(actor, permission)]
    return seen


def render(request: Request, seen: Viewer, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` in the viewer's language, with the security headers."""
    env = environment(seen.language)
    html = env.get_template(template).render(
        request_path=request.url.path, viewer=seen, csrf_field=security.CSRF_FIELD, **context
    )
    return HTMLResponse(html, status_code=status, headers=dict(security.HEADERS))
