"""CKV_PCI_007, PCI DSS 1.4.4.

Lambda functions that handle card data are attached to the CDE VPC (vpc_config).
"""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, get, is_set


class CardholderLambdaInVpc(PciCheck):
    """CKV_PCI_007: functions that handle card data run in private subnets of the CDE VPC."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_007",
            "1.4.4",
            "Lambda functions that handle card data are attached to the CDE VPC (vpc_config)",
            ["aws_lambda_function"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if (outside := self.outside_cardholder_data(conf, graph)) is not None:
            return outside
        # Subnets handed across module boundaries are often a `for` expression checkov cannot
        # render (it leaves an empty list); a vpc_config with either list set is attached, and the
        # plan scan of environments/local checks the resolved subnets.
        return self.result(
            is_set(get(conf, "vpc_config.subnet_ids"))
            or is_set(get(conf, "vpc_config.security_group_ids"))
        )


check = CardholderLambdaInVpc()
