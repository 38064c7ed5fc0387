"""The IVR diagram: every node drawn once, every edge labelled, texts escaped, unreachable nodes still shown."""

from __future__ import annotations

import re

from infolinia.voice.ivr import Flow, demo_flow
from infolinia.voice.ivr.flow import targets
from infolinia.web.ui.diagram import flow_svg


def test_every_node_and_edge_of_the_demo_flow_is_drawn() -> None:
    flow = demo_flow()
    svg = str(flow_svg(flow, "Demo"))
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "<title" in svg
    drawn = re.findall(r'data-node="([^"]+)"', svg)
    assert sorted(drawn) == sorted(node.id for node in flow.nodes)
    edges = sum(1 for node in flow.nodes for _ in targets(node))
    assert svg.count('class="edge"') == edges
    assert 'class="edge-label">1<' in svg and 'class="edge-label">on_failure<' in svg


def test_texts_are_escaped_and_unreachable_nodes_shown() -> None:
    flow = Flow.model_validate(
        {
            "start": "a",
            "nodes": [
                {"id": "a", "type": "hangup", "prompt": "x"},
                {"id": "lost", "type": "queue", "queue": "<script>alert(1)</script>"},
            ],
        }
    )
    svg = str(flow_svg(flow, 'Flow "<b>"'))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
    assert 'data-node="lost"' in svg
    columns = dict(re.findall(r'data-node="([^"]+)"><rect x="([\d.]+)"', svg))
    assert float(columns["lost"]) > float(columns["a"])
