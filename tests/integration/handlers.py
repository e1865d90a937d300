"""Test functions deployed to the emulator: their source is zipped by the tests."""

from __future__ import annotations

import io
import zipfile

PROBE_HANDLER = """
import json
import os
import time


def handler(event, context):
    print("probe invoked")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {
        "pid": os.getpid(),
        "greeting": os.environ.get("GREETING"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "function_name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "echo": event.get("echo"),
    }
"""

BATCH_RECORDER = """
import base64
import json
import os
import uuid

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE"])


def handler(event, context):
    records = event["Records"]
    failures = []
    if records[0].get("eventSource") == "aws:kinesis":
        items = [(r["kinesis"]["sequenceNumber"], base64.b64decode(r["kinesis"]["data"]).decode())
                 for r in records]
    else:
        items = [(r["messageId"], r["body"]) for r in records]
    for item_id, body in items:
        if body.startswith("poison"):
            failures.append({"itemIdentifier": item_id})
            break  # a stream retries from the first failure; later records come again
    delivered = [body for item_id, body in items]
    TABLE.put_item(Item={"batch": str(uuid.uuid4()), "size": len(items),
                         "bodies": json.dumps(delivered)})
    return {"batchItemFailures": failures}
"""


def zip_source(module_name: str, source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module_name}.py", source)
    return buffer.getvalue()


ECHO_PROXY = """
import json


def handler(event, context):
    if event["httpMethod"] == "DELETE":
        raise RuntimeError("boom")
    body = {
        "resource": event["resource"],
        "path": event["path"],
        "pathParameters": event["pathParameters"],
        "query": event["queryStringParameters"],
        "body": json.loads(event["body"]) if event["body"] else None,
        "userArn": event["requestContext"]["identity"]["userArn"],
    }
    return {"statusCode": 201, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body)}
"""
