"""CKV_PCI_010, PCI DSS 7.2.2: IAM policies grant no wildcard actions on kms, dynamodb or s3."""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck
from pci_iam import actions, allows, identity_policy

WILDCARD_ACTIONS = frozenset({"*", "kms:*", "dynamodb:*", "s3:*"})


class NoWildcardDataActions(PciCheck):
    """CKV_PCI_010: identity policies grant no wildcard actions on kms, dynamodb or s3."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_010",
            "7.2.2",
            "IAM policies grant no wildcard actions on kms, dynamodb or s3",
            ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_role"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        statements, unresolved = identity_policy(self.entity_type, conf, graph)
        if not statements and not unresolved:
            return CheckResult.UNKNOWN  # no identity policy here
        bad = [
            a
            for s in statements
            if allows(s) and "Principal" not in s
            for a in actions(s)
            if a in WILDCARD_ACTIONS
        ]
        self.details = [f"wildcard actions: {', '.join(sorted(set(bad)))}"] if bad else []
        if not bad and unresolved:
            return self.unresolved(conf, "; ".join(unresolved))
        return self.result(not bad)


check = NoWildcardDataActions()
