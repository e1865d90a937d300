"""CKV_PCI_006, PCI DSS 4.2.1.

S3 buckets deny requests made without TLS (aws:SecureTransport = false).
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, graph_at
from pci_iam import allows, condition_values, parse_policy, policy_statements


class S3DeniesInsecureTransport(PciCheck):
    """CKV_PCI_006: every bucket has a policy that denies requests without TLS."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_006",
            "4.2.1",
            "S3 buckets deny requests made without TLS (aws:SecureTransport = false)",
            ["aws_s3_bucket"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        statements = parse_policy(conf.get("policy"))
        policies = graph.referrers(["aws_s3_bucket_policy"], "bucket", literal_attr="bucket")
        for policy in policies:
            statements += policy_statements(policy.attrs, graph_at(graph, policy))
        if policies and not statements and graph.me is not None and graph.me.is_plan:
            return self.unresolved(conf, "the bucket policy is known only after apply")
        if any(_denies_plain_http(s) for s in statements):
            return CheckResult.PASSED
        # checkov cannot render some HCL (for example a `for` expression inside jsonencode) and
        # leaves the policy as text: look for the deny statement in that text instead
        texts = [str(conf.get("policy", ""))] + [str(p.attrs.get("policy", "")) for p in policies]
        return self.result(any(PLAIN_HTTP_DENY_TEXT.search(t) for t in texts))


PLAIN_HTTP_DENY_TEXT = re.compile(
    r"deny.{0,400}?aws:securetransport['\"]?\s*[:=]\s*\[?\s*['\"]?false",
    re.IGNORECASE | re.DOTALL,
)


def _denies_plain_http(statement: dict[str, Any]) -> bool:
    return not allows(statement) and any(
        v.lower() == "false" for v in condition_values(statement, "bool", "aws:securetransport")
    )


check = S3DeniesInsecureTransport()
