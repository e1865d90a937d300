"""CKV_PCI_002, PCI DSS 3.7.4.

Symmetric KMS keys rotate automatically within a 365-day cryptoperiod.
"""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, as_int, get, is_true


class KmsRotationWithinCryptoperiod(PciCheck):
    """CKV_PCI_002: symmetric keys rotate automatically at least every 365 days."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_002",
            "3.7.4",
            "Symmetric KMS keys rotate automatically within a 365-day cryptoperiod",
            ["aws_kms_key"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        usage = str(get(conf, "key_usage") or "ENCRYPT_DECRYPT")
        spec = str(get(conf, "customer_master_key_spec") or "SYMMETRIC_DEFAULT")
        if usage != "ENCRYPT_DECRYPT" or spec != "SYMMETRIC_DEFAULT":
            # KMS cannot rotate HMAC or asymmetric keys: their rotation is manual evidence.
            return CheckResult.UNKNOWN
        period = get(conf, "rotation_period_in_days")
        days = as_int(period) if period is not None else 365
        return self.result(
            is_true(get(conf, "enable_key_rotation")) and days is not None and days <= 365
        )


check = KmsRotationWithinCryptoperiod()
