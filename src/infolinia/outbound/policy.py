"""A tenant's callback policy, pure: how soon a callback is promised, how exact a scheduled one must be, how long a
personal callback waits for its agent, and how often and how far apart an unanswered callback is tried again.

JSON form (``tenants.callback_policy``; every key optional, the defaults below fill in)::

    {"asap_minutes": 15, "tolerance_minutes": 2, "personal_wait_minutes": 10, "max_attempts": 3,
     "retry_minutes": {"no_answer": 30, "busy": 10, "voicemail": 60, "failed": 15}, "web_queue": "Billing"}

``detect_machines``: listen to the customer's first seconds after the answer for an answering machine (best
effort, ``amd.py``; default false): a machine's answer is then a ``voicemail`` attempt, tried again per
``retry_minutes``. ``web_queue``: the queue (by name) of callbacks asked for on the tenant's public form,
``/forms/<slug>/callback``; none: the form is off. ``calling_hours``: when the tenant may call customers (the law's
window, quiet days as holidays), in the calendar form of ``tenants.calendar`` and the tenant's time zone, e.g.
``{"weekly": {"mon": [["08:00", "21:00"]], ...}, "holidays": ["2026-12-25"]}``; none: any time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from infolinia.tenants.calendar import BusinessHours, CalendarError

RETRIED: Final = ("no_answer", "busy", "voicemail", "failed")  # outcomes tried again while attempts remain
_DEFAULT_RETRY: Final = {"no_answer": 30, "busy": 10, "voicemail": 60, "failed": 15}
_LIMITS: Final = {  # key -> (least, most)
    "asap_minutes": (1, 24 * 60),
    "tolerance_minutes": (0, 60),
    "personal_wait_minutes": (0, 7 * 24 * 60),
    "max_attempts": (1, 20),
}
_RETRY_LIMITS: Final = (1, 7 * 24 * 60)


class PolicyError(ValueError):
    """An invalid callback policy; the message names the field."""


@dataclass(frozen=True)
class CallbackPolicy:
    asap_minutes: int = 15  # a callback "as soon as possible" (a kept place, a web form) starts within this
    tolerance_minutes: int = 2  # a callback at an agreed time starts within this either side of it
    personal_wait_minutes: int = 10  # a personal callback waits this long past its time for its agent, then anyone
    max_attempts: int = 3  # dial attempts before an unanswered callback is given up
    retry_minutes: Mapping[str, int] = field(default_factory=lambda: dict(_DEFAULT_RETRY))
    web_queue: str | None = None  # the public callback form's queue, by name; None: no public form
    calling_hours: BusinessHours | None = None  # when calls to customers may start; None: any time
    detect_machines: bool = False  # listen for an answering machine after the customer answers (``amd.py``)

    @classmethod
    def from_json(cls, obj: object) -> CallbackPolicy:
        if obj is None:
            return cls()
        if not isinstance(obj, Mapping):
            raise PolicyError("callback_policy: expected an object")
        known = {*_LIMITS, "retry_minutes", "web_queue", "calling_hours", "detect_machines"}
        extra = sorted(str(key) for key in obj if key not in known)
        if extra:
            raise PolicyError(f"callback_policy: unknown field {extra[0]!r} (known: {', '.join(sorted(known))})")
        values: dict[str, Any] = {}
        for key, (least, most) in _LIMITS.items():
            if key in obj:
                values[key] = _whole(obj[key], key, least, most)
        retry = dict(_DEFAULT_RETRY)
        raw_retry = obj.get("retry_minutes", {})
        if not isinstance(raw_retry, Mapping):
            raise PolicyError("retry_minutes: expected an object of outcome -> minutes")
        for outcome, minutes in raw_retry.items():
            if outcome not in RETRIED:
                raise PolicyError(f"retry_minutes: {outcome!r} is not retried (retried: {', '.join(RETRIED)})")
            retry[outcome] = _whole(minutes, f"retry_minutes.{outcome}", *_RETRY_LIMITS)
        web_queue = obj.get("web_queue")
        if web_queue is not None and (not isinstance(web_queue, str) or not 1 <= len(web_queue.strip()) <= 100):
            raise PolicyError("web_queue: expected a queue name (1-100 characters) or null")
        hours = None
        if obj.get("calling_hours") is not None:
            try:
                hours = BusinessHours.from_json(obj["calling_hours"])
            except CalendarError as exc:
                raise PolicyError(f"calling_hours: {exc}") from exc
            if not hours.weekly:
                raise PolicyError("calling_hours: no day has hours (null means any time)")
        detect = obj.get("detect_machines", False)
        if not isinstance(detect, bool):
            raise PolicyError(f"detect_machines: expected true or false, got {detect!r}")
        return cls(
            **values, retry_minutes=retry, web_queue=web_queue.strip() if web_queue else None, calling_hours=hours,
            detect_machines=detect,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "asap_minutes": self.asap_minutes,
            "tolerance_minutes": self.tolerance_minutes,
            "personal_wait_minutes": self.personal_wait_minutes,
            "max_attempts": self.max_attempts,
            "retry_minutes": dict(self.retry_minutes),
            "web_queue": self.web_queue,
            "calling_hours": None if self.calling_hours is None else self.calling_hours.to_json(),
            "detect_machines": self.detect_machines,
        }


def _whole(raw: object, where: str, least: int, most: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise PolicyError(f"{where}: expected a whole number, got {raw!r}")
    if not least <= raw <= most:
        raise PolicyError(f"{where}: must be between {least} and {most}, got {raw}")
    return raw
