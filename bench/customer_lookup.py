"""Caller-ID lookup: how fast the customer record is found by phone number (the screen pop of every call).

Compares, on one database: the full API (ASGI in-process, bearer auth, access gate, JSON), the domain call
`customers.actions.search` alone, and one indexed SQL query (the floor). Prints one JSON object last.

    python bench/customer_lookup.py [--quick] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from sqlalchemy import select

from infolinia import demo
from infolinia.app import Infolinia
from infolinia.config import Settings
from infolinia.customers.actions import search
from infolinia.store import db as store
from infolinia.store.models import Customer, CustomerIdentity, IdentityKind, Tenant


async def seed_bulk(center: Infolinia, count: int) -> list[str]:
    """``count`` extra customers with one phone each in tenant demo (bulk insert, no audit: setup only)."""
    rng = random.Random(7)
    phones = sorted({f"+4860{rng.randrange(1_000_000, 9_999_999)}" for _ in range(count)})
    async with center.db.session() as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == "demo"))
        assert tenant is not None
        customers = [Customer(tenant_id=tenant.id, number=f"B{i:07d}", name=f"Bench {i}") for i in range(len(phones))]
        s.add_all(customers)
        await s.flush()
        s.add_all(
            CustomerIdentity(tenant_id=tenant.id, customer_id=c.id, kind=IdentityKind.PHONE, value=p)
            for c, p in zip(customers, phones, strict=True)
        )
        await s.commit()
    return phones


async def timed(label: str, n: int, one: Callable[[str], Awaitable[None]], phones: list[str]) -> dict[str, float]:
    rng = random.Random(label)
    sample = [rng.choice(phones) for _ in range(n)]
    for p in sample[: max(10, n // 20)]:  # warm caches and pools
        await one(p)
    lat = []
    start = time.perf_counter()
    for p in sample:
        t = time.perf_counter()
        await one(p)
        lat.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    lat.sort()
    return {
        "per_s": round(n / total, 1),
        "p50_ms": round(statistics.median(lat) * 1000, 3),
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 3),
    }


async def main(quick: bool, db_url: str | None) -> dict[str, object]:
    customers, lookups = (2_000, 300) if quick else (20_000, 3_000)
    workdir = tempfile.mkdtemp(prefix="infolinia-bench-")
    url = db_url or f"sqlite+aiosqlite:///{Path(workdir) / 'bench.db'}"
    await asyncio.to_thread(store.upgrade, url)
    center = Infolinia(Settings(database_url=url))
    await demo.seed(center.db)
    phones = await seed_bulk(center, customers)
    async with center.db.session() as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == "demo"))
    assert tenant is not None

    app = center.http_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        r = await client.post("/api/v1/auth/login", json={"email": "agent1@demo.test", "password": "demo"})
        headers = {"Authorization": f"Bearer {r.json()['token']}"}

        async def via_api(phone: str) -> None:
            r = await client.get("/api/v1/customers", params={"phone": phone}, headers=headers)
            assert r.status_code == 200 and len(r.json()["items"]) == 1

        async def via_action(phone: str) -> None:
            async with center.db.session() as s:
                assert len(await search(s, tenant, phone=phone)) == 1

        async def via_sql(phone: str) -> None:
            async with center.db.session() as s:
                found = await s.scalar(
                    select(CustomerIdentity.customer_id).where(
                        CustomerIdentity.tenant_id == tenant.id,
                        CustomerIdentity.kind == IdentityKind.PHONE,
                        CustomerIdentity.value == phone,
                    )
                )
                assert found is not None

        results = {
            "api": await timed("api", lookups, via_api, phones),
            "action": await timed("action", lookups, via_action, phones),
            "sql": await timed("sql", lookups, via_sql, phones),
        }
    await center.db.dispose()
    backend = store.parse_url(url).get_backend_name()
    return {
        "bench": "customer_lookup",
        "backend": backend,
        "customers": customers + 60,
        "lookups": lookups,
        **{f"{k}_{m}": v for k, r in results.items() for m, v in r.items()},
        "api_vs_sql_ratio": round(results["sql"]["per_s"] / results["api"]["per_s"], 2),
        "action_vs_sql_ratio": round(results["sql"]["per_s"] / results["action"]["per_s"], 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data set, few lookups")
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    args = parser.parse_args()
    result = asyncio.run(main(args.quick, args.db))
    for key, value in result.items():
        print(f"{key:>22}: {value}")
    print(json.dumps(result))
