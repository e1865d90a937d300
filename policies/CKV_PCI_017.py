"""CKV_PCI_017, PCI DSS 6.4.1: API methods and routes require authorization."""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, get, is_true


class ApiRequiresAuthorization(PciCheck):
    """CKV_PCI_017: every API method or route requires an authorizer (except CORS pre-flight)."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_017",
            "6.4.1",
            "API methods and routes require authorization",
            ["aws_api_gateway_method", "aws_apigatewayv2_route"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if self.entity_type == "aws_api_gateway_method":
            if str(get(conf, "http_method")).upper() == "OPTIONS":
                return CheckResult.UNKNOWN
            auth = str(get(conf, "authorization") or "NONE").upper()
            return self.result(auth != "NONE" or is_true(get(conf, "api_key_required")))
        if str(get(conf, "route_key")).upper().startswith("OPTIONS "):
            return CheckResult.UNKNOWN
        return self.result(str(get(conf, "authorization_type") or "NONE").upper() != "NONE")


check = ApiRequiresAuthorization()
