"""Who is calling: matching the caller's IAM ARN (API Gateway ``requestContext.identity.userArn``
under IAM authorization) against configured principals, and which merchants a caller may act
for.

An entry matches:

* the exact ARN (``arn:aws:sts::111122223333:assumed-role/chargebacks/alice`` or an IAM user);
* an IAM role ARN ``arn:aws:iam::<account>:role/<path/><name>``: every session of that role,
  ``arn:aws:sts::<account>:assumed-role/<name>/<session>`` (STS drops the role path);
* an entry ending in ``/`` is a prefix (``arn:aws:iam::111122223333:user/merchants/``);
  nothing else is a pattern, and no ``*`` is honoured.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?:.*/)?(?P<name>[^/]+)$"
)
_SESSION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sts::(?P<account>\d{12}):assumed-role/(?P<name>[^/]+)/[^/]+$"
)
ANY_MERCHANT = "*"
# A prefix that names only a principal type: every role session ("assumed-role/"), every role,
# every user or every federated user of the account.
_BARE_TYPE_PREFIX = re.compile(
    r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:(assumed-role|role|user|federated-user)/$"
)


def signing_principal(event: Mapping[str, Any]) -> str:
    """The caller's ARN in an API Gateway proxy event under IAM authorization ("" if none)."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    return str(identity.get("userArn") or "")


def admits_a_whole_type(entry: str) -> bool:
    """Whether ``entry`` is a bare type prefix such as ``arn:aws:sts::<account>:assumed-role/``,
    which matches every principal of that type in the account (finding 11)."""
    return _BARE_TYPE_PREFIX.match(entry.strip()) is not None


def principal_allowed(principal: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``principal`` (the caller's ARN) matches one of ``allowed`` (see module doc)."""
    if not principal:
        return False
    session = _SESSION_ARN.match(principal)
    for entry in allowed:
        if principal == entry:
            return True
        if entry.endswith("/") and entry.count(":") >= 5 and principal.startswith(entry):
            return True
        role = _ROLE_ARN.match(entry)
        if (
            role is not None
            and session is not None
            and (role["partition"], role["account"], role["name"])
            == (session["partition"], session["account"], session["name"])
        ):
            return True
    return False


@dataclass(frozen=True, slots=True)
class MerchantAccess:
    """Merchant id -> the principals that may act for it; ``*`` names principals that may act
    for every merchant (an operator, or the emulator's users). Nobody is allowed by default."""

    principals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> MerchantAccess:
        data = json.loads(text) if text.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("MERCHANT_PRINCIPALS must be a JSON object of merchant -> [ARN]")
        principals: dict[str, tuple[str, ...]] = {}
        for merchant, entries in data.items():
            if not isinstance(entries, list) or not all(
                isinstance(e, str) and e.startswith("arn:") for e in entries
            ):
                raise ValueError(f"MERCHANT_PRINCIPALS[{merchant!r}] must be a list of ARNs")
            principals[str(merchant)] = tuple(entries)
        return cls(principals)

    def may_act_for(self, principal: str, merchant_id: str) -> bool:
        allowed = self.principals.get(merchant_id, ()) + self.principals.get(ANY_MERCHANT, ())
        return principal_allowed(principal, allowed)
