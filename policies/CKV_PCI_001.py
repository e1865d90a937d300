"""CKV_PCI_001, PCI DSS 3.5.1.

Cardholder-data stores are encrypted with a customer-managed KMS key.
"""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import Graph, PciCheck, as_list, get, is_cmk, is_true


class CardholderDataCmkEncryption(PciCheck):
    """CKV_PCI_001: stores of cardholder data are encrypted with a customer-managed KMS key."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_001",
            "3.5.1",
            "Cardholder-data stores are encrypted with a customer-managed KMS key",
            [
                "aws_dynamodb_table",
                "aws_s3_bucket",
                "aws_kinesis_stream",
                "aws_sqs_queue",
                "aws_sns_topic",
                "aws_cloudwatch_log_group",
                "aws_sfn_state_machine",
                "aws_kinesis_firehose_delivery_stream",
            ],
            BcSeverities.CRITICAL,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if (outside := self.outside_cardholder_data(conf, graph)) is not None:
            return outside
        kind = self.entity_type
        if kind == "aws_dynamodb_table":
            return self.result(
                is_true(get(conf, "server_side_encryption.enabled"))
                and is_cmk(get(conf, "server_side_encryption.kms_key_arn"))
            )
        if kind == "aws_kinesis_stream":
            return self.result(
                str(get(conf, "encryption_type")).upper() == "KMS"
                and is_cmk(get(conf, "kms_key_id"))
            )
        if kind in ("aws_sqs_queue", "aws_sns_topic"):
            return self.result(is_cmk(get(conf, "kms_master_key_id")))
        if kind == "aws_cloudwatch_log_group":
            return self.result(is_cmk(get(conf, "kms_key_id")))
        if kind == "aws_sfn_state_machine":
            return self.result(
                str(get(conf, "encryption_configuration.type")) == "CUSTOMER_MANAGED_KMS_KEY"
                and is_cmk(get(conf, "encryption_configuration.kms_key_id"))
            )
        if kind == "aws_kinesis_firehose_delivery_stream":
            if get(conf, "kinesis_source_configuration") is not None:
                # A stream reading a Kinesis data stream stores nothing at rest (the data stays
                # in the source stream, under its own key, which this check judges there), and
                # Firehose refuses server-side encryption for it: not applicable.
                return CheckResult.UNKNOWN
            return self.result(
                is_true(get(conf, "server_side_encryption.enabled"))
                and str(get(conf, "server_side_encryption.key_type")) == "CUSTOMER_MANAGED_CMK"
                and is_cmk(get(conf, "server_side_encryption.key_arn"))
            )
        return self.result(_s3_uses_cmk(conf, graph))


def _s3_uses_cmk(conf: dict[str, Any], graph: Graph) -> bool:
    rules = [get(conf, "server_side_encryption_configuration.rule")]
    for sse in graph.referrers(
        ["aws_s3_bucket_server_side_encryption_configuration"], "bucket", literal_attr="bucket"
    ):
        rules += as_list(sse.attrs.get("rule"))
    for rule in rules:
        default = get(rule, "apply_server_side_encryption_by_default")
        if str(get(default, "sse_algorithm")) in ("aws:kms", "aws:kms:dsse") and is_cmk(
            get(default, "kms_master_key_id")
        ):
            return True
    return False


check = CardholderDataCmkEncryption()
