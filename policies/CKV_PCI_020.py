"""CKV_PCI_020, PCI DSS 7.2.2.

Item-level grants on vault tables are bounded by dynamodb:LeadingKeys.
"""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import VAULT_NAME, PciCheck, strings, unwrap
from pci_iam import actions, allows, has_condition_key, identity_policy, judgeable, matches_any

# Item-level DynamoDB actions: each names the partition key of the item(s) it reaches, which
# dynamodb:LeadingKeys can bound. Scan cannot be bounded by key (and an index Query is on the
# index's key): those are left to least privilege on actions and resources.
DYNAMODB_ITEM_ACTIONS = (
    "dynamodb:getitem",
    "dynamodb:batchgetitem",
    "dynamodb:putitem",
    "dynamodb:updateitem",
    "dynamodb:deleteitem",
    "dynamodb:batchwriteitem",
    "dynamodb:conditioncheckitem",
    "dynamodb:query",
    "dynamodb:partiqlselect",
    "dynamodb:partiqlinsert",
    "dynamodb:partiqlupdate",
    "dynamodb:partiqldelete",
)


def _reaches_vault_table(resource: str) -> bool:
    if resource == "*":
        return True
    lowered = resource.lower()
    if "/index/" in lowered or "/stream/" in lowered or "/backup/" in lowered:
        return False
    return bool(VAULT_NAME.search(resource)) and ("dynamodb" in lowered or "table" in lowered)


class VaultTableGrantsBoundedByLeadingKeys(PciCheck):
    """CKV_PCI_020: identity-policy grants of item-level actions on a vault table carry a
    ``dynamodb:LeadingKeys`` condition (issue 18, finding 7: the tokenize role could delete any
    customer key and write any tenant's records)."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_020",
            "7.2.2",
            "Item-level grants on vault tables are bounded by dynamodb:LeadingKeys",
            ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_role"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        statements, unresolved = identity_policy(self.entity_type, conf, graph)
        relevant = [
            s
            for s in statements
            if allows(s)
            and "Principal" not in s
            and any(matches_any(a, actions(s)) for a in DYNAMODB_ITEM_ACTIONS)
            and any(_reaches_vault_table(r) for r in strings(s.get("Resource")))
        ]
        relevant, notes = judgeable(relevant)
        unresolved += notes
        if not relevant:
            if unresolved:
                return self.unresolved(conf, "; ".join(unresolved))
            return CheckResult.UNKNOWN
        unbounded = [
            str(unwrap(s.get("Sid")) or f"statement {i}")
            for i, s in enumerate(relevant)
            if not has_condition_key(s, "dynamodb:leadingkeys")
        ]
        self.details = (
            [f"vault table grants without dynamodb:LeadingKeys: {', '.join(unbounded)}"]
            if unbounded
            else []
        )
        if not unbounded and unresolved:
            return self.unresolved(conf, "; ".join(unresolved))
        return self.result(not unbounded)


check = VaultTableGrantsBoundedByLeadingKeys()
