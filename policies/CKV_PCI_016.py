"""CKV_PCI_016, PCI DSS 6.4.2: Public API Gateway stages are associated with a WAFv2 web ACL."""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, get, is_set, strings


class PublicApiBehindWaf(PciCheck):
    """CKV_PCI_016: public API stages are protected by an AWS WAF web ACL."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_016",
            "6.4.2",
            "Public API Gateway stages are associated with a WAFv2 web ACL",
            ["aws_api_gateway_stage", "aws_apigatewayv2_stage"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if self.entity_type == "aws_apigatewayv2_stage":
            # HTTP APIs cannot be associated with WAF; put CloudFront + WAF or a REST API in front.
            self.details = ["HTTP APIs (apigatewayv2) cannot carry a WAF web ACL"]
            return CheckResult.FAILED
        if graph.me is not None:
            for api in graph.targets(graph.me, "rest_api_id"):
                if "PRIVATE" in strings(get(api.attrs, "endpoint_configuration.types")):
                    return CheckResult.UNKNOWN
        if is_set(get(conf, "web_acl_arn")):
            return CheckResult.PASSED
        associations = graph.referrers(["aws_wafv2_web_acl_association"], "resource_arn")
        return self.result(bool(associations))


check = PublicApiBehindWaf()
