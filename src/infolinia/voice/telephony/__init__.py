"""Telephony configuration: a tenant's phone numbers, trunks and stored IVR flows.

- ``actions``: the write path (create, update, delete; audit rows and events), used by the API and the demo seed;
- ``validation`` and ``dialed``: pure checks (numbers, source networks, flows as a whole) and the forms a dialled
  number is matched by;
- ``directory``: ``TelephonyDirectory``, the cached read side the call control asks about each INVITE;
- ``prompts``: ``known_prompts``, the prompt names flows are checked against;
- ``schemas``: the API's request and response shapes.

Nothing here dials out: numbers and trunks describe where calls come in, and a flow can hand a call only to a queue
or an extension of the same tenant.
"""

from infolinia.voice.telephony.dialed import Dialed, dialed
from infolinia.voice.telephony.directory import NumberRoute, TelephonyDirectory, TrunkAccount, TrunkMatch
from infolinia.voice.telephony.prompts import known_prompts

__all__ = [
    "Dialed",
    "NumberRoute",
    "TelephonyDirectory",
    "TrunkAccount",
    "TrunkMatch",
    "dialed",
    "known_prompts",
]
