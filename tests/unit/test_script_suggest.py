"""Which scripts are suggested for a contact, and in what order: an IVR choice above a queue above a case category,
a deeper IVR choice first, then the customer's language, then the name."""

from __future__ import annotations

from typing import Any

from infolinia.agent_scripts.attachments import Attachments
from infolinia.agent_scripts.suggest import Candidate, Contact, same_language, suggest


def script(ident: int, name: str, language: str = "pl", **attachments: Any) -> Candidate:
    return Candidate(ident, name, language, Attachments.model_validate(attachments))


CALL = Contact(flow_ids=frozenset({1}), ivr_path=("hours", "menu", "billing"), queues={10: "Billing"},
               cases=(("billing", 42),), language="en", flow_names={1: "Main menu"})  # fmt: skip


def test_ivr_above_queue_above_category() -> None:
    found = suggest(
        [script(1, "By category", categories=["billing"]), script(2, "By queue", queue_ids=[10]),
         script(3, "By IVR", ivr=[{"flow_id": 1, "node_id": "billing"}])],
        CALL,
    )  # fmt: skip
    assert [s.id for s in found] == [3, 2, 1]
    assert [r.text for s in found for r in s.reasons] == [
        "IVR choice 'billing' (Main menu)", "queue Billing", "case category billing (case 42)",
    ]  # fmt: skip


def test_the_customers_language_first_among_equals_then_the_name() -> None:
    found = suggest([script(1, "Reklamacja", "pl", queue_ids=[10]), script(2, "Complaint", "en", queue_ids=[10]),
                     script(3, "Another", "pl", queue_ids=[10])], CALL)  # fmt: skip
    assert [s.id for s in found] == [2, 3, 1]
    assert [s.language_match for s in found] == [True, False, False]


def test_a_stronger_reason_beats_the_language() -> None:
    found = suggest([script(1, "EN queue", "en", queue_ids=[10]),
                     script(2, "PL IVR", "pl", ivr=[{"flow_id": 1, "node_id": "menu"}])], CALL)  # fmt: skip
    assert [s.id for s in found] == [2, 1]


def test_a_deeper_ivr_choice_ranks_higher() -> None:
    found = suggest([script(1, "Menu", ivr=[{"flow_id": 1, "node_id": "menu"}]),
                     script(2, "Billing", ivr=[{"flow_id": 1, "node_id": "billing"}])], CALL)  # fmt: skip
    assert [s.id for s in found] == [2, 1]


def test_a_script_is_suggested_once_with_every_reason_best_first() -> None:
    [found] = suggest([script(1, "All", categories=["billing"], queue_ids=[10],
                              ivr=[{"flow_id": 1, "node_id": "billing"}])], CALL)  # fmt: skip
    assert [r.kind for r in found.reasons] == ["ivr", "queue", "category"]


def test_nodes_of_another_flow_do_not_count_unless_the_flow_is_unknown() -> None:
    other = script(1, "Other flow", ivr=[{"flow_id": 2, "node_id": "billing"}])
    assert suggest([other], CALL) == []
    unknown = Contact(flow_ids=None, ivr_path=("billing",))
    assert [s.id for s in suggest([other], unknown)] == [1]


def test_nothing_applies() -> None:
    candidates = [script(1, "Sales", queue_ids=[11], categories=["return"], ivr=[{"flow_id": 1, "node_id": "sales"}])]
    assert suggest(candidates, CALL) == []
    assert suggest(candidates, Contact()) == []


def test_same_language() -> None:
    assert same_language("pt-BR", "pt") and same_language("EN", "en")
    assert not same_language("pl", "en") and not same_language(None, "pl") and not same_language("pl", "")
