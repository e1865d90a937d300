"""Requests the emulator once allowed where AWS refuses them, decided in process on moto's
stores through the Authorizer the emulator runs for every request (local.enforcement).

KMS grants that allow CreateGrant ("Granting CreateGrant permission", KMS Developer Guide;
GrantConstraints, KMS API Reference): the grantee may create grants whose operations are a
subset of its grant's and whose encryption-context constraint is equally strict or stricter;
the constraint does not apply to DescribeKey and RetireGrant.

CloudTrail's bucket ("Amazon S3 bucket policy for CloudTrail"): CreateTrail and UpdateTrail are
refused (InsufficientS3BucketPolicyException) unless the bucket policy lets
cloudtrail.amazonaws.com, for this trail, call s3:GetBucketAcl on the bucket and s3:PutObject
under <prefix>/AWSLogs/<account>/ with the bucket-owner-full-control ACL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.exceptions import _RESTError as ServiceError

from local import enforcement
from tests.unit.test_event_source_access import ACCOUNT, REGION, ROOT_ONLY_KEY


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        yield {
            name: boto3.client(name, region_name=REGION)
            for name in ("iam", "kms", "s3", "cloudtrail", "kinesis", "secretsmanager", "sns")
        }


def role(aws: dict[str, Any], name: str) -> str:
    trust = enforcement.LAMBDA_TRUST_POLICY
    return str(aws["iam"].create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"])


def authorize(service: str, operation: str, body: dict[str, Any]) -> None:
    """Authorize one JSON request as the emulator would; an access key moto did not issue is
    the emulator's own, the account root."""
    response = SimpleNamespace(
        headers={
            "Authorization": f"AWS4 Credential=AKIAX/20261201/{REGION}/{service}/aws4_request,"
        },
        current_account=ACCOUNT,
        region=REGION,
        service_name=service,
        raw_body=json.dumps(body).encode(),
        uri=f"https://{service}.{REGION}.amazonaws.com/",
        _get_action=lambda: operation,
        # Query-protocol services (SNS) read parameters one by one.
        _get_param=lambda name, default=None: body.get(name, default),
    )
    enforcement.Authorizer(response, object, "*").check()


def as_role(
    monkeypatch: pytest.MonkeyPatch,
    role_arn: str,
    operation: str,
    body: dict[str, Any],
    service: str = "kms",
) -> None:
    """Authorize one request signed by a session of ``role_arn``."""
    monkeypatch.setattr(
        enforcement.Authorizer, "caller", lambda self: enforcement.role_caller(role_arn, "s")
    )
    authorize(service, operation, body)


def parent_grant(aws: dict[str, Any], key: str, grantee: str, **constraints: Any) -> None:
    aws["kms"].create_grant(
        KeyId=key,
        GranteePrincipal=grantee,
        Operations=["CreateGrant", "Decrypt", "DescribeKey"],
        **({"Constraints": constraints} if constraints else {}),
    )


def create_grant(
    monkeypatch: pytest.MonkeyPatch,
    creator: str,
    key: str,
    operations: list[str],
    constraints: dict[str, Any] | None = None,
) -> None:
    body: dict[str, Any] = {"KeyId": key, "GranteePrincipal": creator, "Operations": operations}
    if constraints:
        body["Constraints"] = constraints
    as_role(monkeypatch, creator, "CreateGrant", body)


def refused(call: Any, code: str = "AccessDeniedException") -> str:
    with pytest.raises(ServiceError) as error:
        call()
    assert error.value.error_type == code
    return str(error.value.message)


def test_a_grantee_creates_grants_only_for_operations_its_grant_allows(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the account may use the key: the roles have no identity policy, so a grant is all
    # they have.
    key = aws["kms"].create_key(Policy=json.dumps(ROOT_ONLY_KEY))["KeyMetadata"]["Arn"]
    grantee = role(aws, "grantee")
    parent_grant(aws, key, grantee)
    create_grant(monkeypatch, grantee, key, ["Decrypt"])
    create_grant(monkeypatch, grantee, key, ["CreateGrant", "Decrypt"])
    # Encrypt is not in the parent grant: creating a grant for it would escalate.
    message = refused(lambda: create_grant(monkeypatch, grantee, key, ["Decrypt", "Encrypt"]))
    assert "kms:CreateGrant" in message
    # A role with no grant and no policy gets nothing.
    stranger = role(aws, "stranger")
    refused(lambda: create_grant(monkeypatch, stranger, key, ["Decrypt"]))


def test_a_constrained_grantee_creates_only_equally_strict_or_stricter_grants(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = aws["kms"].create_key(Policy=json.dumps(ROOT_ONLY_KEY))["KeyMetadata"]["Arn"]
    subset_grantee, equals_grantee = role(aws, "subset"), role(aws, "equals")
    parent_grant(aws, key, subset_grantee, EncryptionContextSubset={"tenant": "a"})
    parent_grant(aws, key, equals_grantee, EncryptionContextEquals={"tenant": "a"})

    def create(grantee: str, constraints: dict[str, Any] | None) -> None:
        create_grant(monkeypatch, grantee, key, ["Decrypt"], constraints)

    # Subset {tenant: a}: the same, a larger subset, or an equality that includes it.
    create(subset_grantee, {"EncryptionContextSubset": {"tenant": "a"}})
    create(subset_grantee, {"EncryptionContextSubset": {"tenant": "a", "table": "t"}})
    create(subset_grantee, {"EncryptionContextEquals": {"tenant": "a", "table": "t"}})
    refused(lambda: create(subset_grantee, None))
    refused(lambda: create(subset_grantee, {"EncryptionContextSubset": {"tenant": "b"}}))
    refused(lambda: create(subset_grantee, {"EncryptionContextEquals": {"table": "t"}}))
    # Equals {tenant: a}: only that same equality.
    create(equals_grantee, {"EncryptionContextEquals": {"tenant": "a"}})
    refused(lambda: create(equals_grantee, {"EncryptionContextSubset": {"tenant": "a"}}))
    refused(lambda: create(equals_grantee, {"EncryptionContextEquals": {"tenant": "a", "x": "1"}}))
    refused(lambda: create(equals_grantee, None))


def test_a_grants_constraint_does_not_apply_to_describe_key(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = aws["kms"].create_key(Policy=json.dumps(ROOT_ONLY_KEY))["KeyMetadata"]["Arn"]
    grantee = role(aws, "grantee")
    parent_grant(aws, key, grantee, EncryptionContextSubset={"tenant": "a"})
    as_role(monkeypatch, grantee, "DescribeKey", {"KeyId": key})
    # The constraint still binds the cryptographic operations.
    refused(lambda: as_role(monkeypatch, grantee, "Decrypt", {"KeyId": key}))


TRAIL = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/audit"


def trail_bucket(aws: dict[str, Any], name: str, *statements: dict[str, Any]) -> str:
    aws["s3"].create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    if statements:
        policy = {"Version": "2012-10-17", "Statement": list(statements)}
        aws["s3"].put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    return name


def acl_check(bucket: str, trail: str = TRAIL) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:GetBucketAcl",
        "Resource": f"arn:aws:s3:::{bucket}",
        "Condition": {"StringEquals": {"aws:SourceArn": trail}},
    }


def write(bucket: str, prefix: str = "", trail: str = TRAIL) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/{prefix}AWSLogs/{ACCOUNT}/*",
        "Condition": {
            "StringEquals": {"aws:SourceArn": trail, "s3:x-amz-acl": "bucket-owner-full-control"}
        },
    }


def create_trail(bucket: str, **settings: str) -> None:
    authorize("cloudtrail", "CreateTrail", {"Name": "audit", "S3BucketName": bucket, **settings})


def test_a_trail_needs_a_bucket_policy_that_lets_cloudtrail_write_for_it(
    aws: dict[str, Any],
) -> None:
    insufficient = "InsufficientS3BucketPolicyException"
    bare = trail_bucket(aws, "bare")
    message = refused(lambda: create_trail(bare), insufficient)
    assert message == "Incorrect S3 bucket policy is detected for bucket: bare"
    # Both statements are needed: the ACL check and the write.
    refused(
        lambda: create_trail(trail_bucket(aws, "acl-only", acl_check("acl-only"))), insufficient
    )
    refused(
        lambda: create_trail(trail_bucket(aws, "write-only", write("write-only"))), insufficient
    )
    # For another trail only.
    other = f"{TRAIL}-other"
    elsewhere = trail_bucket(
        aws, "elsewhere", acl_check("elsewhere", other), write("elsewhere", "", other)
    )
    refused(lambda: create_trail(elsewhere), insufficient)
    # The objects go under the trail's prefix.
    unprefixed = trail_bucket(aws, "unprefixed", acl_check("unprefixed"), write("unprefixed"))
    refused(lambda: create_trail(unprefixed, S3KeyPrefix="audit"), insufficient)
    create_trail(unprefixed)
    prefixed = trail_bucket(aws, "prefixed", acl_check("prefixed"), write("prefixed", "audit/"))
    create_trail(prefixed, S3KeyPrefix="audit")
    # modules/audit's policy: TLS only, this trail only.
    tls_only = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::audited", "arn:aws:s3:::audited/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    create_trail(trail_bucket(aws, "audited", tls_only, acl_check("audited"), write("audited")))
    # A Deny for CloudTrail wins over the Allows.
    denied = {**write("denied"), "Effect": "Deny", "Condition": {}}
    closed = trail_bucket(aws, "denied", acl_check("denied"), write("denied"), denied)
    refused(lambda: create_trail(closed), insufficient)


def test_a_trail_moved_to_another_bucket_needs_that_buckets_policy(aws: dict[str, Any]) -> None:
    bucket = trail_bucket(aws, "first", acl_check("first"), write("first"))
    create_trail(bucket)
    aws["cloudtrail"].create_trail(Name="audit", S3BucketName=bucket)
    bare = trail_bucket(aws, "second")
    update = {"Name": "audit", "S3BucketName": bare}
    refused(
        lambda: authorize("cloudtrail", "UpdateTrail", update),
        "InsufficientS3BucketPolicyException",
    )
    # Another setting of the trail keeps its bucket, whose policy still admits it.
    authorize("cloudtrail", "UpdateTrail", {"Name": "audit", "EnableLogFileValidation": True})
    # A new prefix on the same bucket is checked against the policy too.
    refused(
        lambda: authorize("cloudtrail", "UpdateTrail", {"Name": "audit", "S3KeyPrefix": "p"}),
        "InsufficientS3BucketPolicyException",
    )


def role_with(aws: dict[str, Any], name: str, *statements: dict[str, Any]) -> str:
    arn = role(aws, name)
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    aws["iam"].put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    return arn


@pytest.mark.parametrize(
    ("service", "operation", "body", "resource"),
    [
        (
            "kinesis",
            "PutRecord",
            {"StreamName": "events", "Data": "eA==", "PartitionKey": "k"},
            f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/events",
        ),
        (
            "kinesis",
            "ListShards",
            {"StreamARN": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/events"},
            f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/events",
        ),
        (
            "firehose",
            "PutRecord",
            {"DeliveryStreamName": "lake", "Record": {"Data": "eA=="}},
            f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/lake",
        ),
        (
            "secretsmanager",
            "GetSecretValue",
            {"SecretId": "pseudonym"},
            "secret",
        ),
    ],
)
def test_kinesis_firehose_and_secrets_requests_are_decided_on_their_resource(
    aws: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    service: str,
    operation: str,
    body: dict[str, Any],
    resource: str,
) -> None:
    if resource == "secret":
        created = aws["secretsmanager"].create_secret(Name="pseudonym", SecretString="s")
        resource = str(created["ARN"])
    action = f"{service}:{operation}"
    # A role scoped to the resource may use it, and no other.
    scoped = role_with(aws, "scoped", {"Effect": "Allow", "Action": action, "Resource": resource})
    as_role(monkeypatch, scoped, operation, body, service)
    elsewhere = role_with(
        aws, "elsewhere", {"Effect": "Allow", "Action": action, "Resource": f"{resource}-other"}
    )
    refused(lambda: as_role(monkeypatch, elsewhere, operation, body, service))
    # A Deny on the resource wins over an Allow on everything.
    denied = role_with(
        aws,
        "denied",
        {"Effect": "Allow", "Action": f"{service}:*", "Resource": "*"},
        {"Effect": "Deny", "Action": action, "Resource": resource},
    )
    message = refused(lambda: as_role(monkeypatch, denied, operation, body, service))
    assert "explicit deny" in message


def key_admitting(aws: dict[str, Any], *statements: dict[str, Any]) -> str:
    policy = {"Version": "2012-10-17", "Statement": [*ROOT_ONLY_KEY["Statement"], *statements]}
    return str(aws["kms"].create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"])


def test_publishing_to_a_topic_with_a_cmk_needs_the_key_through_sns(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = key_admitting(aws)
    topic = aws["sns"].create_topic(Name="alarms", Attributes={"KmsMasterKeyId": key})["TopicArn"]
    publish = {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic}
    body = {"TopicArn": topic, "Message": "m"}
    publisher = role_with(aws, "publisher", publish)
    message = refused(
        lambda: as_role(monkeypatch, publisher, "Publish", body, "sns"), "AccessDenied"
    )
    assert "kms:GenerateDataKey" in message
    through_sns = {
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": key,
        "Condition": {
            "StringEquals": {
                "kms:ViaService": f"sns.{REGION}.amazonaws.com",
                "kms:EncryptionContext:aws:sns:topicArn": topic,
            }
        },
    }
    as_role(monkeypatch, role_with(aws, "keyed", publish, through_sns), "Publish", body, "sns")


def test_an_event_bus_with_a_cmk_needs_a_key_policy_that_admits_eventbridge(
    aws: dict[str, Any],
) -> None:
    bus_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/payments"

    def create(key: str) -> None:
        authorize("events", "CreateEventBus", {"Name": "payments", "KmsKeyIdentifier": key})

    refused(lambda: create(key_admitting(aws)))
    for_another_bus = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": ["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceArn": f"{bus_arn}-other"}},
    }
    refused(lambda: create(key_admitting(aws, for_another_bus)))
    admits = {**for_another_bus, "Condition": {"StringEquals": {"aws:SourceArn": bus_arn}}}
    create(key_admitting(aws, admits))


@pytest.mark.parametrize(
    ("operation", "action"),
    [
        ("SendMessageBatch", "sqs:SendMessage"),
        ("DeleteMessageBatch", "sqs:DeleteMessage"),
        ("ChangeMessageVisibilityBatch", "sqs:ChangeMessageVisibility"),
        ("SendMessage", "sqs:SendMessage"),
    ],
)
def test_sqs_batch_operations_are_authorized_as_their_single_message_action(
    operation: str, action: str
) -> None:
    request = SimpleNamespace(service="sqs", operation=operation)
    assert enforcement.Authorizer.iam_action(request) == action  # type: ignore[arg-type]
