"""Who is calling. A merchant is the one its secret API key names (the authorizer's
``requestContext.authorizer.merchant_id``) and acts for itself only. The platform's own roles
(detokenize, credit reviews) sign with IAM: their ARN (``requestContext.identity.userArn``) is
matched against configured principals.

An entry matches:

* the exact ARN (``arn:aws:sts::111122223333:assumed-role/chargebacks/alice`` or an IAM user);
* an IAM role ARN ``arn:aws:iam::<account>:role/<path/><name>``: every session of that role,
  ``arn:aws:sts::<account>:assumed-role/<name>/<session>`` (STS drops the role path);
* an entry ending in ``/`` is a prefix (``arn:aws:iam::111122223333:user/merchants/``);
  nothing else is a pattern, and no ``*`` is honoured.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?:.*/)?(?P<name>[^/]+)$"
)
_SESSION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sts::(?P<account>\d{12}):assumed-role/(?P<name>[^/]+)/[^/]+$"
)
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


def authorized_merchant(event: Mapping[str, Any]) -> str:
    """The merchant the API's authorizer authenticated (``requestContext.authorizer
    .merchant_id``, from the caller's secret API key; docs/decisions/0008), "" if none: a route
    without the authorizer, such as detokenize, never names one."""
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    return str(context.get("merchant_id") or "")


class AuthenticatedMerchant:
    """A caller acts for the one merchant its API key belongs to, and for no other."""

    def may_act_for(self, caller: str, merchant_id: str) -> bool:
        return bool(caller) and caller == merchant_id
