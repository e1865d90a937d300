"""CKV_PCI_004, PCI DSS 3.5.1.1.

A configuration with a card vault has a KMS HMAC key for PAN fingerprints.
"""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, get, table_roles


class KeyedHashKeyForFingerprints(PciCheck):
    """CKV_PCI_004: a root with a token vault also has an HMAC KMS key for PAN fingerprints."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_004",
            "3.5.1.1",
            "A configuration with a card vault has a KMS HMAC key for PAN fingerprints",
            ["aws_dynamodb_table"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if "vault" not in table_roles(conf, graph):
            return CheckResult.UNKNOWN
        if not graph.is_root():
            return CheckResult.UNKNOWN
        for key in graph.resources("aws_kms_key"):
            if str(get(key.attrs, "key_usage")) == "GENERATE_VERIFY_MAC" and str(
                get(key.attrs, "customer_master_key_spec")
            ).startswith("HMAC_"):
                return CheckResult.PASSED
        return CheckResult.FAILED


check = KeyedHashKeyForFingerprints()
