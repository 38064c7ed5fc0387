"""Simulation and shift scheduling through the API: seeded results, both engines, the caps (422 with a machine
code before any work), bad bodies, and the ``wfm.plan`` permission."""

from __future__ import annotations

from typing import Any

import httpx

from infolinia.api.routes.wfm_sim import MAX_CALLS
from tests.conftest import Login

SIMULATE = "/api/v1/wfm/simulate"
SCHEDULE = "/api/v1/wfm/schedule"


def single_center(**extra: Any) -> dict[str, Any]:
    return {
        "interval_minutes": 30,
        "queues": [{"name": "main", "calls": [100, 200, 150], "handle": {"kind": "exponential", "mean_s": 180},
                    "patience_s": 120}],
        "groups": [{"name": "all", "agents": [12, 22, 18]}],
        "seed": 42,
        **extra,
    }  # fmt: skip


def multi_center() -> dict[str, Any]:
    return {
        "queues": [
            {"name": "billing", "calls": [80, 120], "skills": {"billing": 2}, "patience_s": 100},
            {"name": "support", "calls": [60, 60], "skills": {"support": 1}, "language": "pl", "wrapup_s": 15,
             "callback_share": 0.5, "callback_delay_s": 600, "handle": {"kind": "lognormal", "mean_s": 240,
                                                                       "sd_s": 200}},
        ],
        "groups": [
            {"name": "b", "agents": 10, "skills": {"billing": 3}, "queues": ["billing"]},
            {"name": "s", "agents": [8, 9], "skills": {"support": 1}, "languages": ["pl"], "queues": ["support"]},
        ],
        "seed": 5,
    }  # fmt: skip


def rules(**extra: Any) -> dict[str, Any]:
    return {
        "interval_minutes": 60,
        "requirement": [1, 2, 2, 3, 2, 1, 1, 0],
        "templates": [{"name": "four", "length": 4, "starts": [0, 1, 2, 3, 4],
                       "breaks": [{"length": 1, "earliest": 1, "latest": 2}]}],
        "agents": [{"name": f"a{k}", "max_hours": 8, "cost_per_hour": 10 + k} for k in range(4)],
        "under_penalty": 50,
        "time_limit_s": 10,
        **extra,
    }  # fmt: skip


async def test_simulate_fast_path_seeded(client: httpx.AsyncClient, login: Login) -> None:
    sup = await login("supervisor@demo.test")
    r = await client.post(SIMULATE, json=single_center(), headers=sup)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["engine"] == "fast" and len(out["intervals"]) == 3
    overall = out["overall"]
    assert overall["offered"] == sum(i["offered"] for i in out["intervals"]) > 300
    assert overall["offered"] == overall["answered"] + overall["abandoned"]
    assert 0 < overall["service_level"] <= 1 and 0 < overall["occupancy"] <= 1.05
    again = (await client.post(SIMULATE, json=single_center(), headers=sup)).json()
    assert again["overall"] == overall
    routed = (await client.post(SIMULATE, json=single_center(engine="routing"), headers=sup)).json()
    assert routed["engine"] == "routing" and routed["overall"] == overall  # the same draws, the same order


async def test_simulate_multiskill_through_the_routing_engine(client: httpx.AsyncClient, login: Login) -> None:
    r = await client.post(SIMULATE, json=multi_center(), headers=await login("admin@demo.test"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["engine"] == "routing"
    assert set(out["by_queue"]) == {"billing", "support"}
    assert out["by_queue"]["support"]["callbacks_requested"] >= out["by_queue"]["support"]["callbacks_served"]
    assert out["overall"]["offered"] == sum(q["offered"] for q in out["by_queue"].values())


async def test_simulate_caps_and_bad_centers(client: httpx.AsyncClient, login: Login) -> None:
    sup = await login("supervisor@demo.test")
    huge = single_center()
    huge["queues"][0]["calls"] = [MAX_CALLS["fast"] / 2] * 3
    r = await client.post(SIMULATE, json=huge, headers=sup)
    assert r.status_code == 422 and r.json()["error"]["code"] == "too_many_calls"
    many = multi_center()
    many["queues"][0]["calls"] = [MAX_CALLS["routing"], 1]
    r = await client.post(SIMULATE, json=many, headers=sup)
    assert r.status_code == 422 and r.json()["error"]["code"] == "too_many_calls"
    crowd = single_center(engine="routing", groups=[{"name": "all", "agents": 6000}])
    r = await client.post(SIMULATE, json=crowd, headers=sup)
    assert r.status_code == 422 and r.json()["error"]["code"] == "too_many_agents"
    bad = [
        single_center(groups=[{"name": "all", "agents": [1, 2]}]),  # intervals do not match
        single_center(engine="fast", queues=multi_center()["queues"]),  # the fast path takes one skill-less queue
        single_center(queues=[{"name": "main", "calls": [-1]}]),
        single_center(queues=[{"name": "main", "calls": [1, 1, 1], "handle": {"kind": "lognormal"}}]),
        single_center(groups=[{"name": "g", "agents": 3, "queues": ["nope"]}]),
        {"queues": [], "groups": []},
        {**single_center(), "unknown": 1},
    ]
    for body in bad:
        r = await client.post(SIMULATE, json=body, headers=sup)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["code"] == "validation_error"


async def test_schedule(client: httpx.AsyncClient, login: Login) -> None:
    sup = await login("supervisor@demo.test")
    r = await client.post(SCHEDULE, json=rules(), headers=sup)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "optimal"
    assert sum(out["short"]) == 0
    worked = [0] * 8
    for shifts in out["agents"].values():
        for s in shifts:
            assert s["end"] - s["start"] == 4 and len(s["breaks"]) == 1
            b0, b1 = s["breaks"][0]
            assert s["start"] + 1 <= b0 <= s["start"] + 2 and b1 == b0 + 1
            for i in range(s["start"], s["end"]):
                worked[i] += not b0 <= i < b1
    assert worked == out["coverage"]
    assert all(c >= need for c, need in zip(worked, rules()["requirement"], strict=True))


async def test_schedule_caps_and_bad_rules(client: httpx.AsyncClient, login: Login) -> None:
    sup = await login("supervisor@demo.test")
    template = {"name": "t", "length": 16, "starts": list(range(185)),
                "breaks": [{"length": 1, "earliest": 4, "latest": 13}]}  # fmt: skip
    big = rules(requirement=[3] * 200, agents=[{"name": f"a{k}"} for k in range(500)], templates=[template])
    r = await client.post(SCHEDULE, json=big, headers=sup)
    assert r.status_code == 422 and r.json()["error"]["code"] == "schedule_too_large"
    r = await client.post(SCHEDULE, json=rules(templates=[{"name": "t", "length": 9, "starts": [0]}]), headers=sup)
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_rules"
    r = await client.post(SCHEDULE, json=rules(agents=[{"name": "a", "min_hours": 30}]), headers=sup)
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_schedule"
    for body in (rules(time_limit_s=600), rules(requirement=[]), rules(requirement=[-1]), rules(agents=[])):
        r = await client.post(SCHEDULE, json=body, headers=sup)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", r.text


async def test_agents_may_not_plan(client: httpx.AsyncClient, login: Login) -> None:
    agent = await login("agent2@demo.test")
    for path, body in ((SIMULATE, single_center()), (SCHEDULE, rules())):
        r = await client.post(path, json=body, headers=agent)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = await client.post(SIMULATE, json=single_center())
    assert r.status_code == 401
