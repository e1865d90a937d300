"""End to end: environments/local applied for real with pytest-terraform and checked with boto3;
the vault through the local API; the applied plan through the PCI scan. The payments
themselves are in test_payments.py, against the same applied environment."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from compliance import scan
from functions.adapters.ledger_table import DynamoLedgerStore, entry_pk, entry_sk, position_key
from functions.adapters.payment_event_log import payment_event
from functions.domain.acquirer import TEST_CARDS
from functions.domain.cards import contains_card_number, luhn_valid
from functions.domain.ledger import position_change
from local.api_client import ApiClient, local_registry, onboard, role_credentials
from local.demo import run_demo
from local.payments_demo import (
    ACS_PASSING_CODE,
    APPROVE,
    CAPTURE_FAILS,
    INSUFFICIENT_FUNDS,
    MASTERCARD,
    reconcile,
    reconcile_since,
)
from local.payments_demo import payment_request as demo_payment_request
from tests.conftest import Emulator
from tests.e2e.conftest import PostApplyPlan

PAN = "4242424242424242"


def test_the_environment_applies_with_secure_settings(
    emulator: Emulator, local_environment: Any
) -> None:
    outputs = local_environment.outputs
    table_name = outputs["payments_table_name"]["value"]
    table = emulator.client("dynamodb").describe_table(TableName=table_name)["Table"]
    assert table["SSEDescription"]["SSEType"] == "KMS"
    key_arn = table["SSEDescription"]["KMSMasterKeyArn"]
    kms = emulator.client("kms")
    assert kms.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyManager"] == "CUSTOMER"
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    backups = emulator.client("dynamodb").describe_continuous_backups(TableName=table_name)
    assert (
        backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"
        ]
        == "ENABLED"
    )

    machine = emulator.client("stepfunctions").describe_state_machine(
        stateMachineArn=outputs["payment_state_machine_arn"]["value"]
    )
    assert machine["type"] == "EXPRESS"
    # ERROR: failed executions are recorded; the vault audit and CloudTrail carry PCI DSS 10.2
    assert machine["loggingConfiguration"]["level"] == "ERROR"
    assert not machine["loggingConfiguration"].get("includeExecutionData")
    assert machine["encryptionConfiguration"]["type"] == "CUSTOMER_MANAGED_KMS_KEY"
    assert machine["tracingConfiguration"]["enabled"] is True

    function_name = outputs["function_names"]["value"]["assess_risk"]
    config = emulator.client("lambda").get_function_configuration(FunctionName=function_name)
    assert config["TracingConfig"]["Mode"] == "Active"
    assert config["KMSKeyArn"] == key_arn
    group = emulator.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{function_name}"
    )["logGroups"][0]
    assert group["retentionInDays"] >= 365


def test_the_vault_tokenizes_and_only_the_allowed_role_detokenizes(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    merchant = merchant_api(emulator, api_env, "m_e2e")
    created = merchant.post("/v1/tokens", {"number": PAN, "cvc": "123", "customer_id": "cus_1"})
    assert created.status == 201, created.body
    token = created.body["token"]
    assert (created.body["brand"], created.body["last4"]) == ("visa", "4242")
    assert token.startswith("tok_") and PAN not in json.dumps(created.body)
    again = merchant.post("/v1/tokens", {"number": PAN, "customer_id": "cus_1"})
    assert again.body["token"] == token  # same card, same tenant and customer: deduplicated

    # Detokenize is signed with IAM: a merchant's API key never reaches the function.
    refused = merchant.post(f"/v1/tokens/{token}/detokenize", {"purpose": "chargeback"})
    assert refused.status == 403
    assert refused.body["error"]["code"] == "signature_invalid"

    chargebacks = ApiClient(
        emulator.api_endpoint,
        role_credentials(emulator.client("sts"), api_env["detokenizer_role_arn"], "e2e"),
        "m_e2e",
    )
    revealed = chargebacks.post(f"/v1/tokens/{token}/detokenize", {"purpose": "chargeback"})
    assert revealed.status == 200, revealed.body
    assert revealed.body["number"] == PAN
    other_tenant = ApiClient(
        chargebacks.base_url, chargebacks.credentials, "m_other", api_env["api_name"]
    )
    assert (
        other_tenant.post(f"/v1/tokens/{token}/detokenize", {"purpose": "chargeback"}).status == 404
    )

    bad = merchant.post("/v1/tokens", {"number": "4242424242424241"})
    assert bad.status == 400 and bad.body["error"]["param"] == "number"
    unknown = merchant.post("/v1/tokens", {"number": PAN, "track2": "x"})
    assert unknown.status == 400 and unknown.body["error"]["param"] == "track2"

    audit = "\n".join(emulator.log_messages(api_env["vault"]["audit_log_group_name"]))
    assert token in audit and "chargeback" in audit
    for function in ("tokenize_function", "detokenize_function"):
        # At the default levels (WARN) a function that succeeds writes nothing; whatever it
        # writes must still never hold the card number.
        text = "\n".join(emulator.log_messages(f"/aws/lambda/{api_env['vault'][function]}"))
        assert PAN not in text
    assert PAN not in audit


def test_the_applied_plan_passes_the_pci_scan_with_resolved_values(
    post_apply_plan: PostApplyPlan, tmp_path: Path
) -> None:
    assert post_apply_plan.json_text, post_apply_plan.output
    # Where `make compliance` writes it, so exceptions scoped to environments/local apply.
    plan_json = tmp_path / "environments" / "local" / "tfplan.json"
    plan_json.parent.mkdir(parents=True)
    plan_json.write_text(post_apply_plan.json_text)
    # Resolved values the HCL scan cannot see: default tags, subnets handed between modules.
    planned = json.loads(post_apply_plan.json_text)["planned_values"]["root_module"]
    assert planned
    # The plan alone: make test does not scan this directory's HCL (make compliance does).
    outcome = scan.scan([], [plan_json])
    summary = outcome.document()["summary"]
    assert outcome.ok, [f"{f.check_id} {f.resource}" for f in outcome.failures] + outcome.errors
    assert summary["passed"] > 0 and summary["failed"] == 0
    assert [Path(p).name for p in outcome.scanned] == ["tfplan.json"]
    # Every layer's resources were evaluated, not just a few that happened to resolve.
    layers = {
        f.resource.split(".")[3]
        for f in outcome.findings
        if f.resource.startswith("module.platform.module.")
    }
    assert {"audit", "kms", "network", "payment_workflow", "vault"} <= layers, layers
    # The exceptions scoped to environments/local matched the plan's findings.
    assert outcome.excepted


# ------------------------------------------------------------------------------ payments


def test_merchant() -> str:
    """The calling test's own merchant: tests don't share card velocity."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "e2e").split("::")[-1].split(" ")[0]
    return "m_" + hashlib.sha256(test.encode()).hexdigest()[:10]


test_merchant.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def merchant_api(
    emulator: Emulator, api_env: dict[str, Any], merchant: str | None = None
) -> ApiClient:
    """A merchant's integration (the calling test's merchant unless named): onboarded in the
    registry as `make merchant` does, holding a fresh secret API key."""
    issued = onboard(emulator.endpoint, api_env, merchant or test_merchant())
    return ApiClient.for_merchant(emulator.api_endpoint, issued, api_env["api_name"])


def create(api: ApiClient, request: dict[str, Any], key: str | None = None) -> Any:
    return api.post("/v1/payments", request, idempotency_key=key or uuid.uuid4().hex)


def payment_request(number: str, amount: int, **kwargs: Any) -> dict[str, Any]:
    """A request from a merchant of the calling test alone: tests don't share card velocity."""
    return demo_payment_request(number, amount, merchant=test_merchant(), **kwargs)


def ledger_store(emulator: Emulator, api_env: dict[str, Any]) -> DynamoLedgerStore:
    """The deployed ledger read through its adapter, which owns the table's key layout."""
    return DynamoLedgerStore(emulator.client("dynamodb"), api_env["ledger_table_name"])


def ledger_entries(emulator: Emulator, api_env: dict[str, Any], payment_id: str) -> list[str]:
    return sorted(entry.step for entry in ledger_store(emulator, api_env).entries_for(payment_id))


def ledger_balances(emulator: Emulator, api_env: dict[str, Any]) -> dict[str, int]:
    """Sum of every account balance per currency (the sums of the entries' lines): zero when
    every entry balanced."""
    totals: dict[str, int] = {}
    for (_, currency), value in ledger_store(emulator, api_env).all_balances().items():
        totals[currency] = totals.get(currency, 0) + value
    return totals


def published(emulator: Emulator, api_env: dict[str, Any], payment_id: str) -> list[str]:
    """The payment's events as the bus's archive rule recorded them, read the way the
    reconciliation reads them."""
    records = [json.loads(m) for m in emulator.log_messages(api_env["event_log_group_name"])]
    events = [e for e in map(payment_event, records) if e is not None]
    return sorted(e.type for e in events if e.payment_id == payment_id)


def test_an_approved_payment_runs_every_step_and_is_recorded_without_the_pan(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    created = create(api, payment_request(APPROVE, 2500))
    assert created.status == 201, created.body
    payment = created.body
    assert payment["status"] == "captured"
    assert payment["card"] == {"brand": "visa", "last4": "4242"}
    assert payment["token"].startswith("tok_")
    assert payment["fraud"]["decision"] == "allow"
    assert payment["sca"] == {
        "required": False,
        "exemption": "transaction_risk_analysis",
        "reason": payment["sca"]["reason"],
    }
    fetched = api.get(f"/v1/payments/{payment['id']}")
    assert fetched.status == 200 and fetched.body == payment
    # A sale is one entry: the captured funds (its hold is a memo on the payment record).
    assert ledger_entries(emulator, api_env, payment["id"]) == ["sale"]
    assert published(emulator, api_env, payment["id"]) == ["payment.authorized", "payment.captured"]
    stored = json.dumps(
        emulator.client("dynamodb").get_item(
            TableName=api_env["payments_table_name"], Key={"payment_id": {"S": payment["id"]}}
        )["Item"]
    )
    assert APPROVE not in stored and "cvc" not in stored


def test_declined_fraud_blocked_and_bad_input_answer_without_moving_money(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    declined = create(api, payment_request(INSUFFICIENT_FUNDS, 1500))
    assert (declined.status, declined.body["status"]) == (201, "declined")
    assert declined.body["decline_code"] == "insufficient_funds"
    blocked = create(api, payment_request(APPROVE, 600_000, ip="203.0.113.7"))
    assert blocked.body["status"] == "declined"
    assert blocked.body["decline_code"] == "fraud_suspected"
    assert blocked.body["fraud"]["decision"] == "block"
    assert "amount_above_limit" in blocked.body["fraud"]["reasons"]
    for payment in (declined.body, blocked.body):
        assert ledger_entries(emulator, api_env, payment["id"]) == []
        assert published(emulator, api_env, payment["id"]) == ["payment.declined"]

    invalid = create(api, payment_request("4242424242424241", 1000))
    assert invalid.status == 402
    assert invalid.body["error"]["param"] == "payment_method.card.number"
    for changes, param in (
        ({"amount": 0}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"currency": "EURO"}, "currency"),
        ({"track2": "x"}, "track2"),
    ):
        bad = create(api, {**payment_request(APPROVE, 1000), **changes})
        assert bad.status == 400, bad.body
        assert bad.body["error"]["param"] == param
    lettered = create(api, payment_request("4242abcd42424242", 1000))
    assert lettered.status == 400, lettered.body
    assert lettered.body["error"]["param"] == "payment_method.card.number"
    missing = api.get("/v1/payments/pay_missing")
    assert missing.status == 404


def test_sca_challenge_then_resume_completes_the_payment(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    challenged = create(api, payment_request(APPROVE, 25_000, device="dev_sca_e2e"))
    assert challenged.body["status"] == "requires_action", challenged.body
    assert challenged.body["sca"]["required"] is True
    action = challenged.body["next_action"]
    assert action["type"] == "three_ds_challenge" and action["challenge_id"]
    pid = challenged.body["id"]
    assert ledger_entries(emulator, api_env, pid) == []
    resumed = api.post(f"/v1/payments/{pid}/resume", {"challenge_response": ACS_PASSING_CODE})
    assert resumed.status == 200, resumed.body
    assert resumed.body["status"] == "captured"
    assert resumed.body["next_action"] is None
    assert ledger_entries(emulator, api_env, pid) == ["sale"]
    again = api.post(f"/v1/payments/{pid}/resume", {"challenge_response": ACS_PASSING_CODE})
    assert again.body == resumed.body  # a repeated resume answers the same

    failing = create(api, payment_request(APPROVE, 25_000, device="dev_sca_e2e"))
    wrong = api.post(f"/v1/payments/{failing.body['id']}/resume", {"challenge_response": "000000"})
    assert wrong.body["status"] == "declined"
    assert wrong.body["decline_code"] == "authentication_failed"


def test_partial_capture_and_refunds_never_exceed_what_was_captured(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    authorized = create(api, payment_request(MASTERCARD, 8000, capture=False))
    assert authorized.body["status"] == "authorized", authorized.body
    pid = authorized.body["id"]
    too_much = api.post(f"/v1/payments/{pid}/capture", {"amount": 8001})
    assert too_much.status == 400 and too_much.body["error"]["param"] == "amount"
    captured = api.post(f"/v1/payments/{pid}/capture", {"amount": 5000})
    assert captured.status == 200, captured.body
    assert (captured.body["status"], captured.body["amount_captured"]) == ("captured", 5000)
    assert ledger_entries(emulator, api_env, pid) == ["authorization", "capture-1", "void"]

    first = api.post(f"/v1/payments/{pid}/refunds", {"amount": 2000}, idempotency_key="e2e-r1")
    assert (first.status, first.body["status"]) == (201, "partially_refunded")
    replay = api.post(f"/v1/payments/{pid}/refunds", {"amount": 2000}, idempotency_key="e2e-r1")
    assert replay.body == first.body
    over = api.post(f"/v1/payments/{pid}/refunds", {"amount": 3001}, idempotency_key="e2e-r2")
    assert over.status == 400 and over.body["error"]["code"] == "amount_too_large"
    rest = api.post(f"/v1/payments/{pid}/refunds", {}, idempotency_key="e2e-r3")
    assert (rest.body["status"], rest.body["amount_refunded"]) == ("refunded", 5000)
    entries = ledger_entries(emulator, api_env, pid)
    assert sum(1 for e in entries if e.startswith("refund-")) == 2
    assert published(emulator, api_env, pid).count("payment.refunded") == 2


def test_an_uncaptured_payment_is_canceled_once_and_a_captured_one_is_not(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    # Its own device: the demo's payments must not count these in their device velocity.
    device = "dev_cancel_e2e"
    authorized = create(api, payment_request(MASTERCARD, 4000, capture=False, device=device))
    assert authorized.body["status"] == "authorized", authorized.body
    pid = authorized.body["id"]
    reason = {"cancellation_reason": "requested_by_customer"}
    canceled = api.post(f"/v1/payments/{pid}/cancel", reason)
    assert canceled.status == 200, canceled.body
    assert (canceled.body["status"], canceled.body["cancellation_reason"]) == (
        "canceled",
        "requested_by_customer",
    )
    assert api.get(f"/v1/payments/{pid}").body == canceled.body
    again = api.post(f"/v1/payments/{pid}/cancel", reason)
    assert (again.status, again.body) == (200, canceled.body)
    assert ledger_entries(emulator, api_env, pid) == ["authorization", "reversal-authorization"]
    assert sorted(set(published(emulator, api_env, pid))) == [
        "payment.authorized",
        "payment.canceled",
    ]

    captured = create(api, payment_request(APPROVE, 1500, device=device))
    assert captured.body["status"] == "captured", captured.body
    refused = api.post(f"/v1/payments/{captured.body['id']}/cancel", {})
    assert (refused.status, refused.body["error"]["code"]) == (400, "payment_unexpected_state")


def test_a_reused_key_and_concurrent_duplicates_make_one_payment(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    key = uuid.uuid4().hex
    first = create(api, payment_request(APPROVE, 1800, device="dev_dup"), key)
    second = create(api, payment_request(APPROVE, 1800, device="dev_dup"), key)
    assert first.status == second.status == 201 and first.body == second.body
    reused = create(api, payment_request(APPROVE, 1900, device="dev_dup"), key)
    assert reused.status == 422 and reused.body["error"]["code"] == "idempotency_key_reused"

    key = uuid.uuid4().hex
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(
            pool.map(
                lambda _: create(api, payment_request(APPROVE, 1700, device="dev_dup2"), key),
                range(3),
            )
        )
    assert {a.status for a in answers} <= {201, 409}
    ids = {a.body["id"] for a in answers if a.status == 201}
    assert len(ids) == 1
    payments = emulator.client("dynamodb").scan(
        TableName=api_env["payments_table_name"],
        FilterExpression="device_id = :d",
        ExpressionAttributeValues={":d": {"S": "dev_dup2"}},
        ConsistentRead=True,
    )["Items"]
    assert len(payments) == 1


def test_a_failure_after_authorization_ends_compensated(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    failed = create(api, payment_request(CAPTURE_FAILS, 3000))
    assert failed.status == 201, failed.body
    assert failed.body["status"] == "canceled"
    assert failed.body["failure_code"] == "processing_error"
    pid = failed.body["id"]
    # The capture never happened: the hold was a memo, no money moved, no entry to reverse.
    assert ledger_entries(emulator, api_env, pid) == []
    assert published(emulator, api_env, pid) == ["payment.authorized", "payment.canceled"]


def test_reconciliation_finds_and_repairs_a_lost_ledger_write(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    # The test's own window: the other tests' payments are not its subject, and a day of
    # slices is slow on the emulator.
    since = reconcile_since()
    pid = create(api, payment_request(APPROVE, 2100, device="dev_recon")).body["id"]
    function = api_env["function_names"]["reconcile"]
    lambda_client = emulator.client("lambda")
    clean = reconcile(lambda_client, function, since=since)
    assert clean["ok"], clean["mismatches"]

    lose_posting(emulator, api_env, pid, "sale")
    found = reconcile(lambda_client, function, repair=True, since=since)
    kinds = {(m["kind"], m["payment_id"]) for m in found["mismatches"]}
    assert ("ledger_entry_missing", pid) in kinds
    assert any(r["payment_id"] == pid for r in found["repaired"])
    assert "sale" in ledger_entries(emulator, api_env, pid)
    # The repair restored the entry and its position: nothing is missing afterwards.
    after = reconcile(lambda_client, function, since=since)
    assert after["ok"], after["mismatches"]


def lose_posting(emulator: Emulator, api_env: dict[str, Any], payment_id: str, step: str) -> None:
    """A posting whose write never ran: its entry and its position change undone together
    (the ledger writes them in one transaction, or, for a sale, as one item: the position
    carrying the entry)."""
    ddb = emulator.client("dynamodb")
    table = api_env["ledger_table_name"]
    entries = ledger_store(emulator, api_env).entries_for(payment_id)
    entry = next(e for e in entries if e.step == step)
    change = position_change(entry)
    if change.fresh:
        ddb.delete_item(TableName=table, Key=position_key(payment_id))
        return
    deltas = change.deltas
    ddb.update_item(
        TableName=table,
        Key=position_key(payment_id),
        UpdateExpression="ADD " + ", ".join(f"#f{n} :v{n}" for n in range(len(deltas))),
        ExpressionAttributeNames={f"#f{n}": name for n, (name, _) in enumerate(deltas)},
        ExpressionAttributeValues={f":v{n}": {"N": str(-d)} for n, (_, d) in enumerate(deltas)},
    )
    ddb.delete_item(
        TableName=table,
        Key={"pk": {"S": entry_pk(payment_id)}, "sk": {"S": entry_sk(step)}},
    )


def test_the_demo_runs_every_scenario_and_the_ledger_balances(
    emulator: Emulator, api_env: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_demo(emulator.endpoint, api_env, emulator.api_endpoint) == 0
    printed = capsys.readouterr().out
    assert "FAILED" not in printed and "Traceback" not in printed
    assert "0 failed" in printed and "0 mismatches" in printed
    balances = ledger_balances(emulator, api_env)
    assert balances and all(total == 0 for total in balances.values()), balances


def test_no_card_number_reaches_a_log_table_or_event(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    create(api, payment_request(APPROVE, 2200, device="dev_pan"))
    create(api, payment_request("4242424242424241", 1000))
    pans = (APPROVE, INSUFFICIENT_FUNDS, CAPTURE_FAILS, MASTERCARD, "4242424242424241")
    logs = emulator.client("logs")
    groups = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    assert api_env["event_log_group_name"] in groups
    texts = ["\n".join(emulator.log_messages(group)) for group in groups]
    ddb = emulator.client("dynamodb")
    for table in ("payments_table_name", "idempotency_table_name", "ledger_table_name"):
        texts.append(json.dumps(ddb.scan(TableName=api_env[table])["Items"]))
    everything = "\n".join(texts)
    # The search covers real records (API access logs, payment events, the tables).
    assert '"payment.captured"' in everything or "payment.captured" in everything
    for pan in pans:
        assert pan not in everything


def test_a_merchant_s_key_acts_for_that_merchant_only(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    owned = create(api, payment_request(APPROVE, 1200, device="dev_owner"))
    assert owned.status == 201, owned.body
    # Another merchant's valid key naming this merchant: 403; its payments: 404, as missing.
    stranger = merchant_api(emulator, api_env, f"{test_merchant()}_other")
    refused = create(stranger, payment_request(APPROVE, 1200, device="dev_stranger"))
    assert refused.status == 403 and refused.body["error"]["code"] == "merchant_not_permitted"
    pid = owned.body["id"]
    assert stranger.get(f"/v1/payments/{pid}").status == 404
    refund = stranger.post(f"/v1/payments/{pid}/refunds", {"amount": 100}, idempotency_key="x")
    assert refund.status == 404
    assert api.get(f"/v1/payments/{pid}").body["amount_refunded"] == 0
    vault = ApiClient(
        stranger.base_url, None, test_merchant(), api_env["api_name"], stranger.api_key
    )
    tokenize = vault.post("/v1/tokens", {"number": APPROVE})
    assert tokenize.status == 403 and tokenize.body["error"]["code"] == "merchant_not_permitted"


def refusal(answer: Any) -> tuple[int, str, str | None]:
    """A refusal in the API's error shape, whoever made it (a function or API Gateway)."""
    error = answer.body["error"]
    assert set(error) == {"type", "code", "message", "param"}, answer.body
    return answer.status, error["code"], error["param"]


def test_missing_malformed_revoked_and_expired_keys_are_401_in_the_error_shape(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    issued = onboard(emulator.endpoint, api_env, test_merchant())
    registry = local_registry(emulator.endpoint, api_env)
    # Revoked and rotated out (overlap 0) before their first use: no cached answer lets them in.
    revoked = registry.issue_key(issued.merchant_id)
    registry.revoke_key(issued.merchant_id, revoked.key_id)
    expired = registry.issue_key(issued.merchant_id)
    registry.rotate_key(issued.merchant_id, expired.key_id, dt.timedelta(0))
    body = payment_request(APPROVE, 1000)
    unauthorized = (401, "api_key_invalid", "Authorization")
    for key in (
        None,
        "nope",
        f"{issued.prefix}_{'A' * 43}",  # the right id, a guessed secret
        revoked.api_key,
        expired.api_key,
        issued.api_key.replace("sk_test_", "sk_live_"),
    ):
        client = ApiClient(emulator.api_endpoint, None, None, api_env["api_name"], key)
        assert refusal(create(client, body)) == unauthorized, key
    # A SigV4 signature on a merchant route is no API key either.
    signed = ApiClient(
        emulator.api_endpoint,
        role_credentials(emulator.client("sts"), api_env["detokenizer_role_arn"], "e2e"),
        None,
        api_env["api_name"],
    )
    assert refusal(create(signed, body)) == unauthorized


def test_a_rotated_key_keeps_working_through_the_overlap_beside_the_new_one(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    old = merchant_api(emulator, api_env)
    assert create(old, payment_request(APPROVE, 1100, device="dev_rotate")).status == 201
    registry = local_registry(emulator.endpoint, api_env)
    issued = registry.rotate_key(test_merchant(), overlap=dt.timedelta(hours=1))
    new = ApiClient.for_merchant(emulator.api_endpoint, issued, api_env["api_name"])
    for client in (old, new):
        made = create(client, payment_request(APPROVE, 1100, device="dev_rotate"))
        assert made.status == 201, made.body
    keys = {k.prefix: k for k in registry.keys(test_merchant())}
    assert keys[issued.prefix].expires_at is None
    assert all(k.expires_at is not None for p, k in keys.items() if p != issued.prefix)


def test_api_gateway_s_own_refusals_answer_in_the_error_shape(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    api = merchant_api(emulator, api_env)
    # The request validator: POST /v1/payments without Idempotency-Key never runs the function.
    missing = api.post("/v1/payments", payment_request(APPROVE, 1000))
    assert refusal(missing) == (400, "parameter_missing", "Idempotency-Key")
    # A merchant's key on detokenize (IAM-signed: the platform's own roles): refused.
    assert refusal(api.post("/v1/tokens/tok_x/detokenize", {"purpose": "x"}))[:2] == (
        403,
        "signature_invalid",
    )
    # An unsigned detokenize, and the credit review (also IAM) with a key.
    unsigned = ApiClient(emulator.api_endpoint, None, test_merchant(), api_env["api_name"])
    assert refusal(unsigned.post("/v1/tokens/tok_x/detokenize", {"purpose": "x"}))[:2] == (
        403,
        "authentication_missing",
    )
    review = api.post("/v1/credit/decisions/dec_x/reviews", {"reason": "x", "outcome": "approved"})
    assert refusal(review)[:2] == (403, "signature_invalid")
    assert refusal(api.get("/v1/nothing-here"))[0] == 404


def burst_cards(count: int) -> list[str]:
    """Luhn-valid Visa numbers of this run alone, none a simulator test card: approved.

    The simulator picks a behaviour by the last four digits alone, so a number ending like a
    test card (``0002``, ``0069``: a random prefix makes the check digit vary) is declined."""
    cards: list[str] = []
    prefix = "4000" + str(uuid.uuid4().int)[:8]
    n = 0
    while len(cards) < count:
        body = f"{prefix}{n:03d}"
        n += 1
        card = body + next(d for d in "0123456789" if luhn_valid(body + d))
        if card[-4:] not in TEST_CARDS:
            cards.append(card)
    return cards


def stream_records(emulator: Emulator, stream: str) -> list[bytes]:
    kinesis = emulator.client("kinesis")
    found = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        found += [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]]
    return found


def test_a_card_testing_burst_raises_an_alert_and_the_device_is_declined_next(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    """Issue 11 end to end: payment events -> EventBridge -> Kinesis -> the consumer's counters
    -> fraud.alert on the bus and the block list -> the assess step declines the next payment
    from the device with a stream reason code. No card number is ever on the stream."""
    sqs, events = emulator.client("sqs"), emulator.client("events")
    queue = sqs.create_queue(QueueName=f"fraud-alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = f"e2e-fraud-alerts-{uuid.uuid4().hex[:8]}"
    bus = api_env["event_bus_name"]
    events.put_rule(Name=rule, EventBusName=bus, EventPattern='{"source": ["blueprint.fraud"]}')
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])

    api = merchant_api(emulator, api_env)
    device = f"dev_burst_{uuid.uuid4().hex[:8]}"
    cards = burst_cards(9)
    for card in cards[:8]:  # environments/local: an alert at 8 cards on one device in an hour
        made = create(api, payment_request(card, 100, device=device))
        assert made.status == 201 and made.body["status"] == "captured", made.body

    alert = None
    deadline = time.monotonic() + 30
    while alert is None and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []):
            detail = json.loads(message["Body"])["detail"]
            if detail["subject"] == device:
                alert = detail
    assert alert is not None, "no fraud.alert for the device within 30 s"
    assert (alert["subject_type"], alert["typology"]) == ("device", "card_testing")
    assert alert["blocked_until"] and alert["reasons"][0] == "device_distinct_cards_1h"

    declined = create(api, payment_request(cards[8], 100, device=device))
    assert declined.status == 201 and declined.body["status"] == "declined", declined.body
    assert declined.body["decline_code"] == "fraud_suspected"
    assert "stream_blocked_device" in declined.body["fraud"]["reasons"]

    records = stream_records(emulator, api_env["fraud_stream"]["stream_name"])
    assert len(records) >= 8
    assert not any(card.encode() in record for record in records for card in cards)
    assert not any(contains_card_number(record.decode()) for record in records)
    # The stream carries the sales' captures and the alert too (the data lake reads them).
    details = [json.loads(record) for record in records]
    assert any(d.get("alert_id") == alert["alert_id"] for d in details)
    assert any(str(d.get("event_id", "")).endswith(":payment.captured") for d in details)


def test_a_poison_record_on_the_stream_goes_alone_to_the_failure_queue(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    """The deployed mapping bisects and retries a record the consumer cannot parse, then
    describes it (never its data) in the consumer's failure queue; its neighbours are counted."""
    stream = api_env["fraud_stream"]
    kinesis, sqs, ddb = (emulator.client(s) for s in ("kinesis", "sqs", "dynamodb"))
    merchant = f"m_poison_{uuid.uuid4().hex[:8]}"
    good = {
        "event_id": f"pay_{uuid.uuid4().hex}:payment.declined",
        "payment_id": "pay_poisonneighbour",
        "merchant_id": merchant,
        "status": "declined",
        "amount": 100,
        "currency": "EUR",
        "amount_captured": 0,
        "amount_refunded": 0,
        "token": "tok_neighbour",
        "card": {"brand": "visa", "last4": "0000"},
        "decline_code": "do_not_honor",
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        "platform_card_key": f"card#ck_{uuid.uuid4().hex}",
    }
    poison = {**good, "event_id": "poison", "surprise": "a field no contract names"}
    kinesis.put_records(
        StreamName=stream["stream_name"],
        Records=[
            {"Data": json.dumps(body).encode(), "PartitionKey": "poison"}
            for body in (good, poison, {**good, "event_id": f"{good['event_id']}:2"})
        ],
    )
    queue = stream["consumer"]["failure_queue_url"]
    deadline = time.monotonic() + 60
    described = None
    while described is None and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []):
            described = json.loads(message["Body"])
    assert described is not None, "no on-failure record within 60 s"
    assert described["KinesisBatchInfo"]["batchSize"] == 1
    assert "surprise" not in json.dumps(described)  # the batch's description, not its data

    def counted() -> int:
        # The merchant's one item: its 24h series' counts (nd<bucket start>).
        item = ddb.get_item(
            TableName=stream["feature_table_name"],
            Key={"pk": {"S": f"merchant#{merchant}"}},
            ConsistentRead=True,
        ).get("Item", {})
        return sum(int(v["N"]) for k, v in item.items() if k.startswith("nd"))

    # The batch stops at the poison, so the neighbour after it is delivered once the poison
    # has gone to the queue: both neighbours are counted, shortly after.
    deadline = time.monotonic() + 30
    while counted() < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert counted() == 2
