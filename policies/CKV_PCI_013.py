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
        unrendered = False
        for rule in rules:
            retention = get(rule, "default_retention")
            mode = get(retention, "mode")
            period = [get(retention, "days"), get(retention, "years")]
            # A root passing the module an object (var.audit_object_lock.mode) is not rendered by
            # checkov's HCL scan: the rule then holds the module's own expressions. That is not a
            # short lock, it is one only the plan can read (the environments' plan-JSON gate).
            if _expression(mode) or any(_expression(v) for v in period):
                unrendered = True
                continue
            days = as_int(period[0]) or 0
            years = as_int(period[1]) or 0
            if is_set(mode) and max(days, years * 365) >= 365:
                return self.result(enabled)
        if unrendered:
            return self.unresolved(
                conf, "the Object Lock retention is an expression only a plan renders"
            )
        return CheckResult.FAILED


def _expression(value: object) -> bool:
    """An HCL expression checkov left as text (``var.x``, ``local.y``, ``${...}``)."""
    return isinstance(value, str) and (
        "${" in value or value.split(".", 1)[0] in {"var", "local", "module", "each", "data"}
    )


check = AuditBucketObjectLock()
