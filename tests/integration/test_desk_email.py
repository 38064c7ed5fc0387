"""The desk's e-mail reply composer with real SMTP: a customer's e-mail becomes a case whose task an agent accepts on
the desk; the desk shows the case's e-mails and sends the agent's reply through the tenant's relay (an aiosmtpd
sink), as ``POST /cases/{id}/replies`` does. The tenant is this module's own."""

from __future__ import annotations

import html
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from infolinia.agents.actions import set_profile
from infolinia.app import Infolinia
from infolinia.auth.actions import create_user
from infolinia.schemas import AgentProfileIn, QueueIn, TenantIn, UserIn
from infolinia.store.models import Case, EmailMessage, Role
from infolinia.store.uow import SYSTEM, write
from infolinia.tenants.actions import create_queue, create_tenant
from tests.conftest import Login
from tests.email_helpers import eventually, message, send, start_sink
from tests.live import free_port
from tests.tenant_api import TenantApi
from tests.ui_helpers import csrf_of, ui_client

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:aiosmtpd")


async def test_an_agent_answers_an_e_mail_case_from_the_desk(
    center: Infolinia, http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    slug = f"deskmail{uuid.uuid4().hex[:8]}"
    address, admin_email, agent_email = f"help@{slug}.test", f"admin@{slug}.test", f"agent@{slug}.test"
    async with write(center.db, None, SYSTEM) as tx:
        tenant = await create_tenant(tx, TenantIn(slug=slug, name="Desk Mail", languages=["en", "pl"]))
        queue = await create_queue(tx, tenant.id, QueueIn(name="E-mail", business_hours=False))
        await create_user(tx, tenant.id, UserIn(email=admin_email, display_name="Admin", role=Role.TENANT_ADMIN,
                                                password="demo"), min_password_length=0)  # fmt: skip
        agent = await create_user(tx, tenant.id, UserIn(email=agent_email, display_name="Agent", role=Role.AGENT,
                                                        password="demo"), min_password_length=0)  # fmt: skip
        await set_profile(tx, agent, tenant, AgentProfileIn())
    await center.routing.reload_queues([queue.id])
    await center.routing.reload_agents([agent.id])
    port = free_port()
    sink, controller = start_sink(port)
    try:
        admin = TenantApi(client, await login(admin_email))
        await admin.call("PATCH", "/email/settings", {
            "addresses": [address], "queue_id": queue.id, "from_name": "Desk Mail Help",
            "relay": {"host": "127.0.0.1", "port": port, "security": "none", "username": None, "password": "pw"},
        })  # fmt: skip
        assert center.email.address is not None
        customer = f"cust-{uuid.uuid4().hex[:8]}@customer.example"
        await send(center.email.address, message(customer, address, "Invoice <b>wrong</b>", "Please fix it."), address)

        async def case_task() -> tuple[int, int] | None:
            async with center.db.session() as s:
                row = await s.execute(select(Case.id, Case.routing_task_id).where(Case.tenant_id == tenant.id))
                found = row.first()
                return None if found is None or found[1] is None else (found[0], found[1])

        case_id, task_id = await eventually(case_task)
        async with ui_client(http_app, agent_email) as browser:
            token = csrf_of((await browser.get("/desk")).text)
            assert (await browser.post("/desk/presence", data={"csrf": token, "presence": "ready"})).status_code == 303

            async def offered() -> bool:
                return f'data-offer="{task_id}"' in (await browser.get("/desk/offers")).text

            await eventually(offered)
            r = await browser.post(f"/desk/tasks/{task_id}/accept", data={"csrf": token})
            assert r.status_code == 303
            pane = (await browser.get(f"/desk?task={task_id}")).text
            assert f'action="/desk/cases/{case_id}/reply"' in pane
            assert "Please fix it." in pane and html.escape("Invoice <b>wrong</b>") in pane
            reply = {"csrf": token, "task": str(task_id), "body": "We fixed the invoice."}
            r = await browser.post(f"/desk/cases/{case_id}/reply", data=reply)
            assert r.status_code == 303 and r.headers["location"].endswith("done=reply")

            async def delivered() -> Any:
                return next((m for _, rcpts, m in sink.received if customer in rcpts), None)

            sent = await eventually(delivered)
            assert "We fixed the invoice." in sent.get_body(("plain",)).get_content()
            async with center.db.session() as s:
                out = await s.scalar(select(EmailMessage).where(EmailMessage.case_id == case_id,
                                                                EmailMessage.direction == "out"))  # fmt: skip
                assert out is not None and out.status in ("pending", "sent")
            # an empty reply is refused with the reason, nothing sent
            r = await browser.post(f"/desk/cases/{case_id}/reply", data=reply | {"body": "  "})
            assert r.status_code == 422
            await client.post(f"/api/v1/tasks/{task_id}/complete", headers=await login(agent_email))
            await browser.post("/desk/presence", data={"csrf": token, "presence": "offline"})
    finally:
        controller.stop()
