"""CKV_PCI_020, PCI DSS 7.2.2.

Item-level grants on vault tables are bounded by dynamodb:LeadingKeys.
"""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import Graph, PciCheck, graph_at, resolve_resources, strings, table_roles, unwrap
from pci_iam import (
    WRITTEN_IN,
    actions,
    allows,
    has_condition_key,
    identity_policy,
    judgeable,
    matches_any,
)

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


def _reaches_vault_table(graph: Graph, statement: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether a statement's resources include a vault table (a table tagged as holding
    cardholder data, resolved by reference or by ARN, or ``*``), and those that cannot be
    resolved here. An index, stream or backup of a table is not its items."""
    unknown = []
    for value in strings(statement.get("Resource")):
        if value == "*":
            return True, []
        if any(part in value.lower() for part in ("/index/", "/stream/", "/backup/")):
            continue
        tables, resolved = resolve_resources(
            graph, value, "aws_dynamodb_table", statement.get(WRITTEN_IN)
        )
        if any("vault" in table_roles(t.attrs, graph_at(graph, t)) for t in tables):
            return True, []
        if not resolved:
            unknown.append(value)
    return False, unknown


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
        relevant = []
        for statement in statements:
            if (
                not allows(statement)
                or "Principal" in statement
                or not any(matches_any(a, actions(statement)) for a in DYNAMODB_ITEM_ACTIONS)
            ):
                continue
            reaches, unknown = _reaches_vault_table(graph, statement)
            if reaches:
                relevant.append(statement)
            unresolved += [
                f"table {value} is an expression only a plan renders" for value in unknown
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
