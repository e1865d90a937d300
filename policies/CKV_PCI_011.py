"""CKV_PCI_011, PCI DSS 10.2.1.

CloudTrail records data events for cardholder-data tables and buckets.
"""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, Vertex, as_list, get, is_chd, strings, unwrap


class CloudTrailCoversCardholderData(PciCheck):
    """CKV_PCI_011: data events of CHD tables and buckets are recorded by CloudTrail."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_011",
            "10.2.1",
            "CloudTrail records data events for cardholder-data tables and buckets",
            ["aws_dynamodb_table", "aws_s3_bucket"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if not is_chd(conf, graph) or not graph.is_root():
            return CheckResult.UNKNOWN
        wanted = (
            "AWS::DynamoDB::Table"
            if self.entity_type == "aws_dynamodb_table"
            else "AWS::S3::Object"
        )
        for trail in graph.resources("aws_cloudtrail"):
            if _trail_records(rendered_config(trail), wanted):
                return CheckResult.PASSED
            for selector in as_list(trail.attrs.get("event_selector")):
                for data in as_list(get(selector, "data_resource")):
                    if str(get(data, "type")) == wanted:
                        return CheckResult.PASSED
            for selector in as_list(trail.attrs.get("advanced_event_selector")):
                for field in as_list(get(selector, "field_selector")):
                    if str(get(field, "field")) == "resources.type" and wanted in strings(
                        get(field, "equals")
                    ):
                        return CheckResult.PASSED
        return CheckResult.FAILED


def rendered_config(vertex: Vertex) -> dict[str, Any]:
    """The resource's rendered configuration with every repeated block kept (the vertex's own
    attributes keep only the first block of a kind, e.g. one of several event selectors)."""
    config = vertex.attrs.get("config_")
    if isinstance(config, dict):
        for by_name in config.values():
            if isinstance(by_name, dict):
                for body in by_name.values():
                    if isinstance(body, dict):
                        return body
    return {}


def _trail_records(body: dict[str, Any], resource_type: str) -> bool:
    for selector in body.get("advanced_event_selector") or []:
        if not isinstance(selector, dict):
            continue
        for field in selector.get("field_selector") or []:
            if (
                isinstance(field, dict)
                and str(unwrap(field.get("field"))) == "resources.type"
                and resource_type in strings(field.get("equals"))
            ):
                return True
    return False


check = CloudTrailCoversCardholderData()
