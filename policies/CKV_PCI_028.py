"""CKV_PCI_028, PCI DSS 4.2.1: a REST API carrying card data cannot be reached over TLS 1.0."""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, get, is_set, is_true, strings

# API Gateway lets a security policy be chosen for custom domains only: the default
# execute-api endpoint of a regional or edge-optimized REST API negotiates TLS 1.0 and 1.1
# ("Choose a security policy for your REST API custom domain"), a private one TLS 1.2.
DEFAULT_ENDPOINT_TLS_1_0 = (
    "the default execute-api endpoint accepts TLS 1.0 and 1.1: serve the API through a custom "
    "domain with security_policy = TLS_1_2 (CKV2_PCI_005) and set "
    "disable_execute_api_endpoint = true"
)


class CardDataApiTls12Only(PciCheck):
    """CKV_PCI_028: a public REST API in the CDE answers only through custom domains (whose
    TLS policy CKV2_PCI_005 checks), never through its default endpoint."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_028",
            "4.2.1",
            "REST APIs carrying card data disable the default endpoint, which accepts TLS 1.0",
            ["aws_api_gateway_rest_api"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if (outside := self.outside_cardholder_data(conf, graph)) is not None:
            return outside
        if "PRIVATE" in [t.upper() for t in strings(get(conf, "endpoint_configuration.types"))]:
            return CheckResult.PASSED
        disabled = get(conf, "disable_execute_api_endpoint")
        if isinstance(disabled, str) and disabled.lower() not in ("true", "false"):
            return self.unresolved(
                conf,
                f"disable_execute_api_endpoint = {disabled}: an expression only a plan renders",
            )
        if is_set(disabled) and is_true(disabled):
            return CheckResult.PASSED
        self.details = [DEFAULT_ENDPOINT_TLS_1_0]
        return CheckResult.FAILED


check = CardDataApiTls12Only()
