"""Settings moto accepts and then forgets, so the aws provider reads back another value than it
wrote and every plan after an apply shows the same change again (a perpetual diff that AWS,
which returns what it was given, does not show).

Each patch makes moto return what the request set, as the service does; the rows are in
README.md ("How the local emulator differs from AWS"). ``tests/e2e/test_plan_converges.py``
plans environments/local again after its apply and expects no change.
"""

from __future__ import annotations

import json
from typing import Any

# KMS's default when EnableKeyRotation names no period (API reference: RotationPeriodInDays).
DEFAULT_ROTATION_PERIOD_DAYS = 365


def install() -> None:
    _s3_eventbridge_notification()
    _kms_rotation_period()
    _kinesis_tags_on_create()
    _security_group_rule_descriptions()


def _s3_eventbridge_notification() -> None:
    """``GetBucketNotificationConfiguration``: moto stores ``EventBridgeConfiguration`` (and
    sends the events) but leaves it out of its answer, so ``aws_s3_bucket_notification``'s
    ``eventbridge = true`` read back as false. S3 answers an empty ``EventBridgeConfiguration``
    element when it is on."""
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_notification
    if getattr(original, "_eventbridge_readback", False):
        return

    def get_bucket_notification(self: Any) -> Any:
        configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if configuration is None or configuration.event_bridge is None:
            return original(self)
        return _serialised_notification(self, configuration)

    get_bucket_notification._eventbridge_readback = True  # type: ignore[attr-defined]
    setattr(S3Response, "get_bucket_notification", get_bucket_notification)  # noqa: B010


def _serialised_notification(response: Any, configuration: Any) -> Any:
    """moto's own answer (``S3Response.get_bucket_notification``) with the EventBridge element."""
    from moto.core.responses import ActionResult

    def build(item: Any, arn_key: str) -> dict[str, Any]:
        config: dict[str, Any] = {"Id": item.id, arn_key: item.arn, "Events": item.events}
        if item.filters:
            config["Filter"] = {"Key": {"FilterRules": item.filters["S3Key"]["FilterRule"]}}
        return config

    result: dict[str, Any] = {
        "TopicConfigurations": [build(t, "TopicArn") for t in configuration.topic],
        "QueueConfigurations": [build(q, "QueueArn") for q in configuration.queue],
        "LambdaFunctionConfigurations": [
            build(c, "LambdaFunctionArn") for c in configuration.cloud_function
        ],
        "EventBridgeConfiguration": {},
    }
    response.data["Action"] = "GetBucketNotificationConfiguration"
    return response.serialized(ActionResult(result))


def _kms_rotation_period() -> None:
    """``EnableKeyRotation``'s ``RotationPeriodInDays``: moto ignores it and
    ``GetKeyRotationStatus`` answers without it, so ``aws_kms_key.rotation_period_in_days`` read
    back as 0 and every plan set it again. KMS keeps the period (365 days when none is given)
    and returns it while rotation is on (the SDKs refuse a period outside 90-2560 days)."""
    from moto.kms.responses import KmsResponse

    original_enable = KmsResponse.enable_key_rotation
    if getattr(original_enable, "_rotation_period", False):
        return
    original_status = KmsResponse.get_key_rotation_status

    def enable_key_rotation(self: Any) -> str:
        period = self._get_param("RotationPeriodInDays")
        answer = original_enable(self)
        key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
        key.rotation_period_in_days = int(period or DEFAULT_ROTATION_PERIOD_DAYS)
        return str(answer)

    def get_key_rotation_status(self: Any) -> str:
        answer = json.loads(original_status(self))
        key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
        answer["KeyId"] = key.arn
        if answer.get("KeyRotationEnabled"):
            answer["RotationPeriodInDays"] = getattr(
                key, "rotation_period_in_days", DEFAULT_ROTATION_PERIOD_DAYS
            )
        return json.dumps(answer)

    enable_key_rotation._rotation_period = True  # type: ignore[attr-defined]
    setattr(KmsResponse, "enable_key_rotation", enable_key_rotation)  # noqa: B010
    setattr(KmsResponse, "get_key_rotation_status", get_key_rotation_status)  # noqa: B010


def _kinesis_tags_on_create() -> None:
    """``CreateStream``'s ``Tags``: moto drops them, so a stream the aws provider creates with
    its tags (it sends them with the create and adds none afterwards) read back untagged, and
    every plan tagged it again. Kinesis applies them with the stream."""
    from moto.kinesis.responses import KinesisResponse

    original = KinesisResponse.create_stream
    if getattr(original, "_tags_on_create", False):
        return

    def create_stream(self: Any) -> Any:
        answer = original(self)
        tags = self._get_param("Tags")
        if tags:
            self.kinesis_backend.add_tags_to_stream(
                stream_arn=None, stream_name=self._get_param("StreamName"), tags=tags
            )
        return answer

    create_stream._tags_on_create = True  # type: ignore[attr-defined]
    setattr(KinesisResponse, "create_stream", create_stream)  # noqa: B010


def _security_group_rule_descriptions() -> None:
    """``DescribeSecurityGroupRules``: moto returns a rule's description only for a CIDR rule;
    for a rule to a prefix list or to another security group it answers none (the prefix list's
    is not even kept), so ``aws_vpc_security_group_egress_rule.description`` read back empty and
    every plan set it again. EC2 returns the description of every kind of rule."""
    from moto.ec2.models.security_groups import SecurityGroupRule

    original_init = SecurityGroupRule.__init__
    if getattr(original_init, "_descriptions", False):
        return

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        prefix_list = kwargs.get("prefix_list_id")
        if prefix_list is None and len(args) > 7:
            prefix_list = args[7]
        self.prefix_list_description = (prefix_list or {}).get("Description")

    def description(self: Any) -> str | None:
        return (
            self.ip_range.get("Description")
            or self.source_group.get("Description")
            or getattr(self, "prefix_list_description", None)
        )

    init._descriptions = True  # type: ignore[attr-defined]
    setattr(SecurityGroupRule, "__init__", init)  # noqa: B010
    setattr(SecurityGroupRule, "description", property(description))  # noqa: B010
