"""CKV_PCI_013, PCI DSS 10.3.2.

Audit-log buckets have S3 Object Lock with a default retention of at least 365 days.
"""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, as_int, as_list, get, is_audit_bucket, is_set, is_true


class AuditBucketObjectLock(PciCheck):
    """CKV_PCI_013: the audit-log bucket is write-once (Object Lock, >= 365 days)."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_013",
            "10.3.2",
            "Audit-log buckets have S3 Object Lock with a default retention of at least 365 days",
            ["aws_s3_bucket"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if not is_audit_bucket(conf, graph):
            return CheckResult.UNKNOWN
        enabled = (
            is_true(get(conf, "object_lock_enabled"))
            or str(get(conf, "object_lock_configuration.object_lock_enabled")) == "Enabled"
        )
        rules = [get(conf, "object_lock_configuration.rule")]
        for lock in graph.referrers(
            ["aws_s3_bucket_object_lock_configuration"], "bucket", literal_attr="bucket"
        ):
            rules += as_list(lock.attrs.get("rule"))
        for rule in rules:
            retention = get(rule, "default_retention")
            days = as_int(get(retention, "days")) or 0
            years = as_int(get(retention, "years")) or 0
            if is_set(get(retention, "mode")) and max(days, years * 365) >= 365:
                return self.result(enabled)
        return CheckResult.FAILED


check = AuditBucketObjectLock()
