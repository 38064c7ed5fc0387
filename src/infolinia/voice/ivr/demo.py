"""The demo tenant's IVR flow on +48800100200, as data.

Outside business hours (and on holidays): the closed message, then a callback offer. Open: the greeting, then the
main menu: 1 billing, 2 technical, 3 sales, 4 the recorded answer on payment deadlines and back to the menu,
0 a callback request. Three failed attempts at the menu go to the Billing queue with a higher priority.
"""

from __future__ import annotations

from infolinia.voice.ivr.flow import Flow

__all__ = ["DEMO_NUMBER", "DEMO_PROMPTS", "DEMO_QUEUES", "demo_flow"]

DEMO_NUMBER = "+48800100200"
DEMO_PROMPTS = frozenset(
    {"greeting", "menu_main", "payment_deadlines", "closed", "invalid", "no_input", "callback_offer", "goodbye"}
)
DEMO_QUEUES = frozenset({"Billing", "Technical", "Sales"})

_FLOW = {
    "start": "hours",
    "nodes": [
        {"id": "hours", "type": "hours", "open": "greeting", "closed": "closed", "holiday": "closed"},
        {"id": "greeting", "type": "play", "prompt": "greeting", "next": "main_menu"},
        {
            "id": "main_menu",
            "type": "menu",
            "prompt": "menu_main",
            "digits": {"1": "billing", "2": "technical", "3": "sales", "4": "payment_deadlines", "0": "callback"},
            "timeout_s": 5,
            "retries": 2,
            "invalid_prompt": "invalid",
            "timeout_prompt": "no_input",
            "on_failure": "operator",
        },
        {"id": "billing", "type": "queue", "queue": "Billing", "language": "pl"},
        {"id": "technical", "type": "queue", "queue": "Technical", "language": "pl"},
        {"id": "sales", "type": "queue", "queue": "Sales", "language": "pl"},
        {"id": "operator", "type": "queue", "queue": "Billing", "priority": 10},
        {"id": "payment_deadlines", "type": "announce", "prompt": "payment_deadlines", "next": "main_menu"},
        {"id": "callback", "type": "callback_offer", "prompt": "callback_offer", "declined": "main_menu"},
        {"id": "closed", "type": "play", "prompt": "closed", "next": "closed_callback"},
        {"id": "closed_callback", "type": "callback_offer", "prompt": "callback_offer", "declined": "goodbye"},
        {"id": "goodbye", "type": "hangup", "prompt": "goodbye", "reason": "closed"},
    ],
}


def demo_flow() -> Flow:
    """A fresh copy of the demo flow."""
    return Flow.model_validate(_FLOW)
