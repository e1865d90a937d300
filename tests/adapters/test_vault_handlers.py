"""The vault's Lambda handlers end to end on moto (in process): API events in, answers out,
KMS + DynamoDB + the audit log group + the audit bus for real (moto), no card number leaking."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto import mock_aws

from functions.adapters import clients
from functions.handlers import detokenize, tokenize, vault_admin
from functions.models.tokens import vault_function_settings
from functions.services.card_tokenization import RATE_LIMITED_MESSAGE
from tests.adapters.test_vault_adapters import TABLE, _create_table

REGION = "eu-west-1"
ACCOUNT = "123456789012"
LOG_GROUP = "/payments/test/vault-audit"
BUS = "test-vault-audit"
MERCHANT = "m_123"
PAN = "4242424242424242"
ALLOWED_ROLE = f"arn:aws:iam::{ACCOUNT}:role/chargebacks"
ALLOWED_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/chargebacks/alice"
STRANGER = f"arn:aws:sts::{ACCOUNT}:assumed-role/analytics/bob"
MERCHANT_USER = f"arn:aws:iam::{ACCOUNT}:user/merchant-123"


@dataclass
class Context(LambdaContext):
    """A LambdaContext with the fields the handlers' Powertools logger reads set."""

    function_name: str = "test-vault"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test-vault"
    aws_request_id: str = "req-1"


@dataclass
class Aws:
    logs: Any
    sqs: Any
    queue_url: str

    def audit_lines(self) -> list[dict[str, Any]]:
        events = self.logs.filter_log_events(logGroupName=LOG_GROUP)["events"]
        return [json.loads(e["message"]) for e in events]

    def raw_log_text(self) -> str:
        return json.dumps(self.logs.filter_log_events(logGroupName=LOG_GROUP)["events"])

    def bus_events(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                return out
            for m in messages:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])


class _CurrentStdout:
    """Writes to whatever sys.stdout is now (capsys swaps it per test phase)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture(autouse=True)
def _powertools_logs_to_capsys() -> Iterator[None]:
    """Powertools binds its handler to the sys.stdout of import time; follow capsys instead."""
    handler = tokenize.logger.registered_handler  # one handler: the three share a service
    previous = handler.setStream(_CurrentStdout())  # type: ignore[attr-defined]
    yield
    handler.setStream(previous)  # type: ignore[attr-defined]


def _reset() -> None:
    clients.clear()
    vault_function_settings.cache_clear()
    for module in (tokenize, detokenize, vault_admin):
        module.vault.cache_clear()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_SERVICE_NAME": "vault-test",
    }.items():
        monkeypatch.setenv(name, value)
    _reset()
    with mock_aws():
        kms = boto3.client("kms", region_name=REGION)
        key_arn = kms.create_key()["KeyMetadata"]["Arn"]
        mac_arn = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"][
            "Arn"
        ]
        _create_table(boto3.client("dynamodb", region_name=REGION))
        logs = boto3.client("logs", region_name=REGION)
        logs.create_log_group(logGroupName=LOG_GROUP)
        events = boto3.client("events", region_name=REGION)
        events.create_event_bus(Name=BUS)
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="audit-capture")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="capture",
            EventBusName=BUS,
            EventPattern=json.dumps({"source": ["payments.vault"]}),
        )
        events.put_targets(
            Rule="capture", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}]
        )
        for name, value in {
            "VAULT_TABLE_NAME": TABLE,
            "VAULT_KMS_KEY_ID": key_arn,
            "VAULT_FINGERPRINT_KEY_ID": mac_arn,
            "VAULT_DECRYPT_KEY_IDS": key_arn,
            "VAULT_AUDIT_LOG_GROUP": LOG_GROUP,
            "VAULT_AUDIT_EVENT_BUS": BUS,
            "DETOKENIZE_ALLOWED_PRINCIPALS": f"{ALLOWED_ROLE}, arn:aws:iam::{ACCOUNT}:user/ops",
        }.items():
            monkeypatch.setenv(name, value)
        yield Aws(logs, sqs, queue_url)
    _reset()


def api_event(
    method: str,
    path: str,
    body: Any,
    *,
    merchant: str | None = MERCHANT,
    caller: str | None = MERCHANT_USER,
    authorized: str | None = None,
) -> dict[str, Any]:
    """An API Gateway proxy event: ``caller`` is the IAM signer (detokenize), ``authorized`` the
    merchant the authorizer's API key check named (the merchant routes)."""
    headers = {"Content-Type": "application/json"}
    if merchant is not None:
        headers["X-Merchant-Id"] = merchant
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "requestId": "api-req-1",
            "stage": "v1",
            "path": path,
            "httpMethod": method,
            "resourcePath": path,
            "identity": {"userArn": caller, "sourceIp": "203.0.113.9"},
            **({"authorizer": {"merchant_id": authorized}} if authorized else {}),
        },
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def call_tokenize(body: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    kwargs.setdefault("authorized", MERCHANT)
    response = tokenize.handler(api_event("POST", "/v1/tokens", body, **kwargs), Context())
    return response["statusCode"], json.loads(response["body"])


def call_detokenize(token: str, body: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    path = f"/v1/tokens/{token}/detokenize"
    response = detokenize.handler(api_event("POST", path, body, **kwargs), Context())
    return response["statusCode"], json.loads(response["body"])


def test_tokenize_then_detokenize_round_trip_is_audited_without_the_pan(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    status, created = call_tokenize({"number": PAN, "cvc": "123", "customer_id": "cus_1"})
    assert status == 201
    # Finding 5: no fingerprint in the answer (with deduplication it confirmed guesses).
    assert set(created) == {"token", "brand", "last4"}
    assert created["brand"] == "visa" and created["last4"] == "4242"
    assert PAN not in json.dumps(created)

    status, again = call_tokenize({"number": PAN, "customer_id": "cus_1"})
    assert status == 201 and again["token"] == created["token"]  # deduplicated

    status, card = call_detokenize(
        created["token"], {"purpose": "chargeback.evidence"}, caller=ALLOWED_SESSION
    )
    assert status == 200
    assert card == {"token": created["token"], "number": PAN, "brand": "visa", "last4": "4242"}

    lines = aws.audit_lines()
    assert len(lines) == 1
    line = lines[0]
    assert line["action"] == "detokenize" and line["outcome"] == "success"
    assert line["actor"] == ALLOWED_SESSION
    assert line["tenant_id"] == MERCHANT
    assert line["token"] == created["token"]
    assert line["purpose"] == "chargeback.evidence"
    assert line["request_id"] == "api-req-1"
    assert line["at"]
    events = aws.bus_events()
    assert [e["detail-type"] for e in events] == ["vault.detokenize"]
    assert events[0]["source"] == "payments.vault"
    assert events[0]["detail"]["token"] == created["token"]

    assert PAN not in aws.raw_log_text()
    assert PAN not in json.dumps(events)
    captured = capsys.readouterr()
    assert PAN not in captured.out + captured.err
    assert "card tokenized" in captured.out  # the Powertools logs were captured


def test_without_an_audit_bus_the_log_group_is_the_whole_record(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The module's default: no bus is given, so nothing is published (and nothing can fail to
    be), while every detokenize is still on record in the log group before the card leaves."""
    monkeypatch.delenv("VAULT_AUDIT_EVENT_BUS")
    _reset()
    _, created = call_tokenize({"number": PAN})
    status, card = call_detokenize(created["token"], {"purpose": "refund"}, caller=ALLOWED_SESSION)
    assert status == 200 and card["number"] == PAN
    assert [(line["action"], line["outcome"]) for line in aws.audit_lines()] == [
        ("detokenize", "success")
    ]
    assert aws.bus_events() == []


def test_detokenize_without_the_principal_is_403_and_audited_as_denied(aws: Aws) -> None:
    _, created = call_tokenize({"number": PAN})
    for caller in (STRANGER, None, f"arn:aws:iam::{ACCOUNT}:role/chargebacks-other"):
        status, body = call_detokenize(created["token"], {"purpose": "support"}, caller=caller)
        assert status == 403
        assert body["error"]["code"] == "detokenize_not_permitted"
        assert PAN not in json.dumps(body)
    outcomes = [(line["outcome"], line["reason"]) for line in aws.audit_lines()]
    assert outcomes == [("denied", "detokenize_not_permitted")] * 3
    # Finding 11: a refused caller's purpose is not written to the audit trail.
    assert [line["purpose"] for line in aws.audit_lines()] == [None] * 3
    assert PAN not in aws.raw_log_text()


def test_exact_principal_match_is_permitted(aws: Aws) -> None:
    _, created = call_tokenize({"number": PAN})
    status, _ = call_detokenize(
        created["token"], {"purpose": "support"}, caller=f"arn:aws:iam::{ACCOUNT}:user/ops"
    )
    assert status == 200


def test_unknown_token_is_404(aws: Aws) -> None:
    status, body = call_detokenize(
        "tok_unknown0000000000000000", {"purpose": "support"}, caller=ALLOWED_SESSION
    )
    assert status == 404
    assert body["error"]["code"] == "token_not_found"
    assert aws.audit_lines()[0]["outcome"] == "failure"


def test_another_tenants_token_is_404(aws: Aws) -> None:
    _, created = call_tokenize({"number": PAN})
    operator = f"arn:aws:iam::{ACCOUNT}:user/ops"  # may detokenize, bound to every tenant
    status, body = call_detokenize(
        created["token"], {"purpose": "support"}, caller=operator, merchant="m_other"
    )
    assert status == 404 and body["error"]["code"] == "token_not_found"


def test_a_merchant_tokenizes_for_itself_only(aws: Aws) -> None:
    status, body = call_tokenize({"number": PAN}, merchant="m_other")
    assert (status, body["error"]["code"]) == (403, "merchant_not_permitted")
    assert body["error"]["param"] == "X-Merchant-Id"
    # Without the authorizer's merchant (an IAM-signed caller, whatever its ARN): nobody.
    status, body = call_tokenize({"number": PAN}, authorized=None)
    assert (status, body["error"]["code"]) == (403, "merchant_not_permitted")


def test_detokenize_ignores_an_api_key_merchant(aws: Aws) -> None:
    """The authorizer's merchant is no detokenize permission: only the IAM allow-list is."""
    _, created = call_tokenize({"number": PAN})
    status, body = call_detokenize(
        created["token"], {"purpose": "support"}, caller=None, authorized=MERCHANT
    )
    assert (status, body["error"]["code"]) == (403, "detokenize_not_permitted")
    assert aws.audit_lines()[-1]["outcome"] == "denied"


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"number": "4242424242424241"}, "invalid_number", "number"),  # Luhn
        ({"number": "4242x42424242424"}, "invalid_number", "number"),
        ({"number": "4242"}, "parameter_invalid", "number"),
        ({"number": PAN, "cvc": "12a"}, "invalid_cvc", "cvc"),
        ({"number": PAN, "track2": "x"}, "parameter_unknown", "track2"),
        ({"cvc": "123"}, "parameter_missing", "number"),
        ({"number": PAN, "ttl_seconds": -1}, "parameter_invalid", "ttl_seconds"),
    ],
)
def test_tokenize_refuses_bad_input_with_400_naming_the_field(
    aws: Aws, capsys: pytest.CaptureFixture[str], body: dict[str, Any], code: str, param: str
) -> None:
    status, answer = call_tokenize(body)
    assert status == 400
    assert answer["error"]["code"] == code
    assert answer["error"]["param"] == param
    assert set(answer["error"]) == {"type", "code", "message", "param"}
    captured = capsys.readouterr()
    for secret in (PAN, "4242424242424241", "4242x42424242424"):
        assert secret not in json.dumps(answer) + captured.out + captured.err
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "", "null"])
def test_malformed_json_is_400(aws: Aws, raw: str) -> None:
    status, answer = call_tokenize(raw)
    assert status == 400 and answer["error"]["code"] == "body_invalid"


def test_without_the_merchant_header_the_key_s_merchant_is_the_tenant(aws: Aws) -> None:
    status, created = call_tokenize({"number": PAN}, merchant=None)
    assert status == 201
    _, again = call_tokenize({"number": PAN}, merchant=MERCHANT)
    assert again["token"] == created["token"]  # the same tenant: deduplicated


def test_missing_merchant_header_is_400_for_detokenize(aws: Aws) -> None:
    _, created = call_tokenize({"number": PAN})
    status, answer = call_detokenize(
        created["token"], {"purpose": "support"}, caller=ALLOWED_SESSION, merchant=None
    )
    assert status == 400 and answer["error"]["param"] == "X-Merchant-Id"


def test_detokenize_refuses_unknown_fields_and_bad_purpose(aws: Aws) -> None:
    _, created = call_tokenize({"number": PAN})
    status, answer = call_detokenize(
        created["token"], {"purpose": "support", "why": "x"}, caller=ALLOWED_SESSION
    )
    assert status == 400 and answer["error"]["param"] == "why"
    status, answer = call_detokenize(created["token"], {"purpose": PAN}, caller=ALLOWED_SESSION)
    assert status == 400 and answer["error"]["param"] == "purpose"
    assert PAN not in json.dumps(answer)


def test_unknown_route_is_404_in_the_error_shape(aws: Aws) -> None:
    response = tokenize.handler(api_event("GET", "/v1/nothing", None), Context())
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["code"] == "resource_missing"


def test_audit_failure_fails_the_detokenize(aws: Aws) -> None:
    _, created = call_tokenize({"number": PAN})
    aws.logs.delete_log_group(logGroupName=LOG_GROUP)
    status, answer = call_detokenize(
        created["token"], {"purpose": "support"}, caller=ALLOWED_SESSION
    )
    assert status == 503
    assert answer["error"]["code"] == "vault_unavailable"
    assert PAN not in json.dumps(answer)


def test_workflow_handler_returns_the_token_and_never_the_pan(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    state = {
        "merchant_id": MERCHANT,
        "amount": 1000,
        "currency": "EUR",
        "customer": {"id": "cus_9", "country": "DE"},
        "payment_method": {
            "type": "card",
            "card": {"number": PAN, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        },
        "validation": {"result": {"valid": True}},
    }
    out = tokenize.handler({**state, "workflow": "tokenize"}, Context())["card"]
    # Finding 1/9: the platform-wide card key instead of the per-tenant fingerprint, which
    # never leaves the vault (it was stored beside first6/last4 in the payments table).
    assert set(out) == {"token", "brand", "last4", "card_key", "first6", "exp_month", "exp_year"}
    assert out["card_key"].startswith("ck_") and len(out["card_key"]) == 46
    assert (out["first6"], out["last4"], out["exp_month"]) == ("424242", "4242", 12)
    assert PAN not in json.dumps(out)
    api_status, api = call_tokenize({"number": PAN, "customer_id": "cus_9"})
    assert api_status == 201 and api["token"] == out["token"]

    by_token = dict(state, payment_method={"type": "card", "token": out["token"]})
    described = tokenize.workflow_handler(by_token, Context())["card"]
    assert {k: described[k] for k in ("token", "brand", "last4", "card_key")} == {
        k: out[k] for k in ("token", "brand", "last4", "card_key")
    }
    assert described["first6"] is None
    # The same card at another merchant, for another customer: the same card key.
    elsewhere = dict(state, merchant_id="m_other", customer={"id": "cus_x"})
    assert (
        tokenize.handler({**elsewhere, "workflow": "tokenize"}, Context())["card"]["card_key"]
        == out["card_key"]
    )
    other_tenant = dict(by_token, merchant_id="m_other")
    assert tokenize.workflow_handler(other_tenant, Context())["http_status"] == 404

    bad = dict(state, payment_method={"type": "card", "card": {"number": "4242424242424241"}})
    refused = tokenize.workflow_handler(bad, Context())
    assert refused["http_status"] == 400
    assert refused["error"]["code"] == "invalid_number"
    assert refused["error"]["param"] == "payment_method.card.number"
    captured = capsys.readouterr()
    assert PAN not in captured.out + captured.err
    assert "4242424242424241" not in json.dumps(refused) + captured.out + captured.err


SAME_CLASS = ("4242420000184242", "4242420000264242", "4242420000344242")  # 424242…4242


def test_a_card_class_over_its_limit_is_429_and_logged_for_the_alarm(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 5: the tokenize function counts new cards per merchant and card class and, at
    the limit, answers 429 for the class (API and workflow) and logs the line the module's
    metric filter counts (TokenizeRateLimited), naming the merchant, never the card."""
    monkeypatch.setenv("VAULT_CLASS_LIMIT_MAX_NEW_CARDS", "2")
    _reset()
    assert call_tokenize({"number": PAN, "customer_id": "cus_1"})[0] == 201
    assert call_tokenize({"number": PAN, "customer_id": "cus_1"})[0] == 201  # returning card
    assert call_tokenize({"number": SAME_CLASS[0], "customer_id": "cus_1"})[0] == 201
    for number in (SAME_CLASS[1], PAN):  # a new card, and the known one: the same answer
        status, body = call_tokenize({"number": number, "customer_id": "cus_1"})
        assert status == 429
        assert body["error"]["type"] == "rate_limit_error"
        assert body["error"]["code"] == "tokenize_rate_limited"
        assert not any(c.isdigit() for c in json.dumps(body))
    state = {
        "merchant_id": MERCHANT,
        "customer": {"id": "cus_2"},
        "payment_method": {"type": "card", "card": {"number": SAME_CLASS[2]}},
    }
    refused = tokenize.workflow_handler(state, Context())
    assert refused["http_status"] == 429 and refused["error"]["code"] == "tokenize_rate_limited"
    assert call_tokenize({"number": "5555555555554444", "customer_id": "cus_1"})[0] == 201

    captured = capsys.readouterr().out
    lines = [json.loads(line) for line in captured.splitlines() if line.startswith("{")]
    limited = [line for line in lines if line.get("message") == RATE_LIMITED_MESSAGE]
    assert len(limited) == 3
    for line in limited:
        assert line["level"] == "WARNING"  # written at the functions' default level
        assert (line["tenant_id"], line["max_new_cards"], line["window_seconds"]) == (
            MERCHANT,
            2,
            3600,
        )
    for number in (PAN, *SAME_CLASS):
        assert number not in captured
    assert "424242" not in json.dumps(limited)


def test_tokenize_card_is_a_plain_function(aws: Aws) -> None:
    out = tokenize.tokenize_card(MERCHANT, PAN, customer_id="cus_2")
    assert out.last4 == "4242" and out.token and out.card_key


OPERATOR = "arn:aws:iam::123456789012:role/key-custodian"


def test_admin_erases_a_customer_and_audits_it(aws: Aws) -> None:
    _, created = call_tokenize({"number": PAN, "customer_id": "cus_gone"})
    operator = "arn:aws:sts::123456789012:assumed-role/privacy-officer/alice"
    out = vault_admin.handler(
        {
            "action": "erase_customer",
            "tenant_id": MERCHANT,
            "customer_id": "cus_gone",
            "requested_by": operator,
        },
        Context(),
    )
    assert out["customer_key_deleted"] is True and out["items_deleted"] >= 1
    status, _ = call_detokenize(created["token"], {"purpose": "support"}, caller=ALLOWED_SESSION)
    assert status == 404
    kinds = [e["detail-type"] for e in aws.bus_events()]
    assert kinds == ["vault.erasure", "vault.detokenize"]
    lines = aws.audit_lines()
    assert [line["action"] for line in lines] == ["erase_customer", "detokenize"]
    # Finding 8: the erasure names who asked for it (the function itself is source_function;
    # request_id is the Lambda request id, which CloudTrail's Invoke data event also carries).
    assert lines[0]["actor"] == operator and lines[0]["request_id"]


def test_admin_actions_name_who_asked_for_them(aws: Aws) -> None:
    """Review M5: erasures and rewraps were audited as the admin function's own ARN."""
    for event in (
        {"action": "erase_customer", "tenant_id": MERCHANT, "customer_id": "cus_x"},
        {"action": "rewrap"},
        {"action": "rewrap", "requested_by": "ops"},
    ):
        refused = vault_admin.handler(event, Context())
        assert refused["error"]["param"].rsplit(".", 1)[-1] == "requested_by"
    assert aws.audit_lines() == []


def test_admin_rewrap_and_bad_events(aws: Aws) -> None:
    call_tokenize({"number": PAN, "customer_id": "cus_r"})
    out = vault_admin.handler(
        {"action": "rewrap", "issued_before": 4_000_000_000, "requested_by": OPERATOR}, Context()
    )
    assert out["tokens_rewrapped"] == 1 and out["failed"] == 0
    assert vault_admin.handler({"action": "drop_table"}, Context())["error"]["param"] == "action"
    refused = vault_admin.handler(
        {"action": "rewrap", "extra": 1, "requested_by": OPERATOR}, Context()
    )
    assert refused["error"]["code"] == "parameter_unknown"
