"""CKV_PCI_012, PCI DSS 10.5.1.

Audit-log buckets keep logs for at least 365 days, the first 90 days hot.
"""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, as_int, as_list, get, is_audit_bucket, is_set, is_true

COLD_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})


class AuditLogArchiveLifecycle(PciCheck):
    """CKV_PCI_012: the audit-log bucket keeps logs >= 365 days, the first 90 days hot."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_012",
            "10.5.1",
            "Audit-log buckets keep logs for at least 365 days, the first 90 days hot",
            ["aws_s3_bucket"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if not is_audit_bucket(conf, graph):
            return CheckResult.UNKNOWN
        rules = as_list(conf.get("lifecycle_rule"))
        for lifecycle in graph.referrers(
            ["aws_s3_bucket_lifecycle_configuration"], "bucket", literal_attr="bucket"
        ):
            rules += as_list(lifecycle.attrs.get("rule"))
        if not rules:
            self.details = ["no lifecycle rule defines the retention of the audit logs"]
            return CheckResult.FAILED
        for rule in rules:
            status = get(rule, "status")
            if status is not None and str(status) != "Enabled":
                continue
            if is_set(get(rule, "enabled")) and not is_true(get(rule, "enabled")):
                continue
            for expiration in as_list(get(rule, "expiration")):
                days = as_int(get(expiration, "days"))
                if days is not None and days < 365:
                    return CheckResult.FAILED
            for transition in as_list(get(rule, "transition")):
                days = as_int(get(transition, "days"))
                cold = str(get(transition, "storage_class")) in COLD_CLASSES
                if cold and days is not None and days < 90:
                    return CheckResult.FAILED
        return CheckResult.PASSED


check = AuditLogArchiveLifecycle()
