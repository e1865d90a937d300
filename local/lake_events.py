"""Generated payment events for the lake's tests and benchmark, and the lake they land in.

The events are seeded, each a valid ``PaymentEventDetail`` of its type
(functions/contracts/events.py) as the payment bus carries it, including the fields the lake
keeps out (token, customer and device ids, IP), so the allow-list is tested on what really arrives.

One payment gives: ``payment.declined``; or ``payment.authorized``, then maybe
``payment.captured`` (the whole amount), then maybe one partial ``payment.refunded``. Its events
fall on the payment's day, in order.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SCHEMA_FILE = (
    Path(__file__).resolve().parent.parent
    / "modules"
    / "data_lake"
    / "schema"
    / "payment_events.json"
)
SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
ALERT_SCHEMA: dict[str, Any] = json.loads((SCHEMA_FILE.parent / "fraud_alerts.json").read_text())
# The delivery stream's prefixes and partition query as modules/data_lake/firehose.tf sets them
# (its plan test pins the same strings).
PREFIX = (
    "payment_events/event_date=!{partitionKeyFromQuery:event_date}"
    "/event_type=!{partitionKeyFromQuery:event_type}/"
)
ERROR_PREFIX = (
    "errors/payment_events/!{firehose:error-output-type}/event_date=!{timestamp:yyyy-MM-dd}/"
)
PARTITION_QUERY = '{event_date: .occurred_at[0:10], event_type: (.event_id | split(":")[1])}'

MERCHANTS = ("m_alpha", "m_beta", "m_gamma", "m_delta")
CURRENCIES = ("EUR", "GBP", "USD")
CARD_COUNTRIES = ("DE", "FR", "GB", "NL", "US", None)
DECLINE_CODES = ("do_not_honor", "insufficient_funds", "fraud_suspected")
BRANDS = ("visa", "mastercard")
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# Random identifiers in letters only: a hex id can hold a Luhn-valid run of 13+ digits, which
# the event contract rightly refuses as a possible card number.
_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def _id(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}".translate(_LETTERS)


def _event(
    event_type: str,
    payment: dict[str, Any],
    at: dt.datetime,
    status: str,
    *,
    captured: int = 0,
    refunded: int = 0,
    key: str | None = None,
    operation_amount: int | None = None,
    decline_code: str | None = None,
) -> dict[str, Any]:
    return {
        "event_id": f"{payment['payment_id']}:{event_type}" + (f":{key}" if key else ""),
        "payment_id": payment["payment_id"],
        "merchant_id": payment["merchant_id"],
        "status": status,
        "amount": payment["amount"],
        "currency": payment["currency"],
        "amount_captured": captured,
        "amount_refunded": refunded,
        "token": payment["token"],
        "card": {"brand": payment["brand"], "last4": payment["last4"]},
        "decline_code": decline_code,
        "occurred_at": at.isoformat(timespec="milliseconds"),
        "operation_key": key,
        "operation_amount": operation_amount,
        "platform_card_key": payment["platform_card_key"],
        "bin": payment["bin"],
        "customer_id": payment["customer_id"],
        "device_id": payment["device_id"],
        "ip": payment["ip"],
        "billing_country": payment["card_country"],
        "card_country": payment["card_country"],
        "ip_country": payment["card_country"],
        "amount_eur_minor": payment["amount"],
        "sca_required": payment["sca_required"],
        "sca_exemption": payment["sca_exemption"],
    }


def _sca(n: int, amount_eur_minor: int) -> tuple[bool, str | None]:
    """An SCA outcome the risk step could have decided (functions/domain/sca.py), from the
    payment's number and amount rather than the seeded generator, so the other fields stay
    what they were: low value up to EUR 30, TRA up to EUR 500, some out of scope, else SCA."""
    if n % 10 == 9:
        return False, None
    if amount_eur_minor <= 3_000 and n % 3:
        return False, "low_value"
    if amount_eur_minor <= 50_000 and n % 4 < 2:
        return False, "transaction_risk_analysis"
    return True, None


def payment_events(count: int, seed: int = 7, days: int = 5) -> Iterator[dict[str, Any]]:
    """The events of ``count`` payments spread over ``days`` days from 2026-01-01."""
    rng = random.Random(seed)  # noqa: S311 - seeded test data, not secrets
    for n in range(count):
        at = START + dt.timedelta(seconds=rng.randrange(days * 86400 - 600))
        amount = rng.randrange(100, 100_000)
        payment: dict[str, Any] = {
            "payment_id": f"pay_{seed}x{n:08d}",
            "merchant_id": rng.choice(MERCHANTS),
            "currency": rng.choice(CURRENCIES),
            "amount": amount,
            "token": f"tok_{_id(rng)}",
            "brand": rng.choice(BRANDS),
            "last4": f"{rng.randrange(10_000):04d}",
            "platform_card_key": f"card#ck_{_id(rng)}",
            "bin": f"{rng.randrange(400000, 560000)}",
            # Returning customers: a few per merchant, so pseudonyms repeat as ids do.
            "customer_id": f"cus_{rng.randrange(8)}",
            "device_id": f"dev_{_id(rng)}",
            "ip": f"198.51.100.{rng.randrange(1, 255)}",
            "card_country": rng.choice(CARD_COUNTRIES),
        }
        payment["sca_required"], payment["sca_exemption"] = _sca(n, amount)
        if rng.random() < 0.2:
            yield _event(
                "payment.declined",
                payment,
                at,
                "declined",
                decline_code=rng.choice(DECLINE_CODES),
            )
            continue
        yield _event("payment.authorized", payment, at, "authorized", operation_amount=amount)
        if rng.random() < 0.7:
            at += dt.timedelta(seconds=rng.randrange(1, 120))
            yield _event(
                "payment.captured",
                payment,
                at,
                "captured",
                captured=amount,
                operation_amount=amount,
            )
            if rng.random() < 0.2:
                at += dt.timedelta(seconds=rng.randrange(1, 300))
                refund = rng.randrange(1, amount + 1)
                yield _event(
                    "payment.refunded",
                    payment,
                    at,
                    "refunded" if refund == amount else "partially_refunded",
                    captured=amount,
                    refunded=refund,
                    key=f"re_{n:08d}",
                    operation_amount=refund,
                )


def fraud_alerts(events: list[dict[str, Any]], seed: int = 7) -> Iterator[dict[str, Any]]:
    """``fraud.alert`` details, each a valid ``FraudAlertDetail``, about the cards, devices and
    merchants of ``events``: a card alert's window runs from ten minutes before one of the
    card's attempts to five after it; one in four alerts is raised again later (same alert id,
    a later ``last_seen``), as a burst's later attempts name the same alert."""
    rng = random.Random(seed)  # noqa: S311 - seeded test data, not secrets
    attempts = [
        e
        for e in events
        if e["event_id"].split(":")[1] in ("payment.authorized", "payment.declined")
    ]
    for n, event in enumerate(rng.sample(attempts, k=len(attempts) // 5)):
        at = dt.datetime.fromisoformat(event["occurred_at"])
        subject_type, subject = rng.choice(
            [
                ("card", event["platform_card_key"]),
                ("card", event["platform_card_key"]),
                ("device", event["device_id"]),
                ("merchant", event["merchant_id"]),
            ]
        )
        alert = {
            "alert_id": f"fa_{rng.getrandbits(128):032x}",
            "subject_type": subject_type,
            "subject": subject,
            "typology": "card_burst" if subject_type == "card" else "card_testing",
            "score": rng.randrange(0, 101),
            "reasons": ["card_attempts_10m"],
            "window": "10m",
            "first_seen": (at - dt.timedelta(minutes=10)).isoformat(timespec="milliseconds"),
            "last_seen": (at + dt.timedelta(minutes=5)).isoformat(timespec="milliseconds"),
            "blocked_until": None
            if subject_type == "merchant"
            else (at + dt.timedelta(hours=1)).isoformat(timespec="milliseconds"),
        }
        yield alert
        if n % 4 == 0:
            later = at + dt.timedelta(minutes=30)
            yield {**alert, "last_seen": later.isoformat(timespec="milliseconds")}


def provision_lake(client: Callable[[str], Any], name: str) -> dict[str, str]:
    """On the emulator, what modules/data_lake applies, minus what delivery does not read: a
    KMS key, the lake bucket (SSE-KMS with bucket keys, TLS only), the Glue database and table
    from the allow-list, a Kinesis stream and the delivery stream between them. For tests and the
    benchmark, which cannot wait for Terraform's lifecycle rules (README: S3 lifecycle)."""
    kms, s3, glue, kinesis = (client(s) for s in ("kms", "s3", "glue", "kinesis"))
    key = kms.create_key(Description="lake test")["KeyMetadata"]["Arn"]
    bucket = f"{name}-lake"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )
    database = f"{name.replace('-', '_')}_lake"
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": "payment_events",
            "PartitionKeys": [
                {"Name": k["name"], "Type": k["type"]} for k in SCHEMA["partition_keys"]
            ],
            "StorageDescriptor": {
                "Location": f"s3://{bucket}/payment_events/",
                "Columns": [{"Name": c["name"], "Type": c["type"]} for c in SCHEMA["columns"]],
            },
        },
    )
    stream = f"{name}-payment-stream"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamARN"]
    role = "arn:aws:iam::123456789012:role/firehose"
    client("firehose").create_delivery_stream(
        DeliveryStreamName=f"{name}-to-lake",
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": role},
        ExtendedS3DestinationConfiguration={
            "RoleARN": role,
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": PREFIX,
            "ErrorOutputPrefix": ERROR_PREFIX,
            "BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 900},
            "CompressionFormat": "UNCOMPRESSED",
            "DynamicPartitioningConfiguration": {"Enabled": True},
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "MetadataExtraction",
                        "Parameters": [
                            {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                            {
                                "ParameterName": "MetadataExtractionQuery",
                                "ParameterValue": PARTITION_QUERY,
                            },
                        ],
                    }
                ],
            },
            "DataFormatConversionConfiguration": {
                "Enabled": True,
                "InputFormatConfiguration": {"Deserializer": {"HiveJsonSerDe": {}}},
                "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}},
                "SchemaConfiguration": {
                    "DatabaseName": database,
                    "TableName": "payment_events",
                    "RoleARN": role,
                },
            },
        },
    )
    return {"bucket": bucket, "database": database, "stream": stream}
