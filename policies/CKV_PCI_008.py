"""CKV_PCI_008, PCI DSS 1.3.2.

The CDE VPC has endpoints for every AWS service the configuration uses.
"""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, get, is_set, strings

# Services that function code calls from inside the VPC when the configuration has them. SQS,
# SNS and CloudWatch Logs are left out: here they are reached by AWS services on the functions'
# behalf (dead-letter delivery, alarms, event-source mappings, log shipping), not from the VPC.
SERVICE_OF_TYPE = {
    "aws_dynamodb_table": "dynamodb",
    "aws_s3_bucket": "s3",
    "aws_kms_key": "kms",
    "aws_kinesis_stream": "kinesis-streams",
    "aws_sfn_state_machine": "states",
    "aws_cloudwatch_event_bus": "events",
    "aws_secretsmanager_secret": "secretsmanager",
}


class VpcEndpointsForServicesInUse(PciCheck):
    """CKV_PCI_008: the CDE VPC reaches the AWS services in use through VPC endpoints."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_008",
            "1.3.2",
            "The CDE VPC has endpoints for every AWS service the configuration uses",
            ["aws_vpc"],
            BcSeverities.MEDIUM,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if not graph.is_root():
            return CheckResult.UNKNOWN
        in_vpc = [
            f for f in graph.resources("aws_lambda_function") if is_set(get(f.attrs, "vpc_config"))
        ]
        if not in_vpc:
            return CheckResult.UNKNOWN  # nothing runs inside the VPC
        needed = {SERVICE_OF_TYPE[v.type] for v in graph.resources(*SERVICE_OF_TYPE)}
        have: set[str] = set()
        for endpoint in graph.resources("aws_vpc_endpoint"):
            for name in strings(endpoint.attrs.get("service_name")):
                have.add(name.rstrip("}").rsplit(".", 1)[-1])
            for each in strings(endpoint.attrs.get("for_each")):
                have.add(each)
        missing = sorted(needed - have)
        self.details = [f"missing VPC endpoints: {', '.join(missing)}"] if missing else []
        self.details += graph.root_note()
        return self.result(not missing)


check = VpcEndpointsForServicesInUse()
