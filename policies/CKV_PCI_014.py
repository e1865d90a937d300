"""CKV_PCI_014, PCI DSS 3.2.1: Vault and idempotency tables expire items with a TTL attribute."""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, get, is_set, is_true, table_roles


class VaultAndIdempotencyTtl(PciCheck):
    """CKV_PCI_014: vault and idempotency tables expire their items (TTL)."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_014",
            "3.2.1",
            "Vault and idempotency tables expire items with a TTL attribute",
            ["aws_dynamodb_table"],
            BcSeverities.MEDIUM,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not table_roles(conf, self.graph_for(conf)) & {"vault", "idempotency"}:
            return CheckResult.UNKNOWN
        return self.result(
            is_true(get(conf, "ttl.enabled")) and is_set(get(conf, "ttl.attribute_name"))
        )


check = VaultAndIdempotencyTtl()
