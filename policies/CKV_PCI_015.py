"""CKV_PCI_015, PCI DSS 12.10.1.

Vault and ledger tables have deletion protection and point-in-time recovery.
"""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, get, is_true, table_roles


class VaultAndLedgerRecoverable(PciCheck):
    """CKV_PCI_015: vault and ledger tables have deletion protection and PITR."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_015",
            "12.10.1",
            "Vault and ledger tables have deletion protection and point-in-time recovery",
            ["aws_dynamodb_table"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not table_roles(conf, self.graph_for(conf)) & {"vault", "ledger"}:
            return CheckResult.UNKNOWN
        return self.result(
            is_true(get(conf, "deletion_protection_enabled"))
            and is_true(get(conf, "point_in_time_recovery.enabled"))
        )


check = VaultAndLedgerRecoverable()
