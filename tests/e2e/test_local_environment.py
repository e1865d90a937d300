"""End to end: environments/local applied for real with pytest-terraform, checked with boto3,
and payments run through it, including the scripted payments of `make demo`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pytest_terraform import terraform

from compliance import scan
from local.api_client import ApiClient, role_credentials, user_credentials
from local.demo import run_demo, scripted_payments
from local.workflow_client import run_execution
from tests.conftest import Emulator

PAN = "4242424242424242"

# Applied once per session on the session's emulator; no teardown: the emulator is thrown away.
terraform("local", scope="session", name="local_environment", teardown=terraform.TEARDOWN_OFF)


def payment(number: str, exp_year: int = 2031) -> dict[str, Any]:
    return {
        "merchant_id": "m_itest",
        "amount": 2599,
        "currency": "EUR",
        "payment_method": {
            "type": "card",
            "card": {"number": number, "exp_month": 6, "exp_year": exp_year, "cvc": "123"},
        },
        "customer": {"id": "cus_itest", "country": "DE"},
    }


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
    assert machine["loggingConfiguration"]["level"] == "ALL"
    assert not machine["loggingConfiguration"].get("includeExecutionData")
    assert machine["encryptionConfiguration"]["type"] == "CUSTOMER_MANAGED_KMS_KEY"
    assert machine["tracingConfiguration"]["enabled"] is True

    function_name = outputs["function_names"]["value"]["validate_payment"]
    config = emulator.client("lambda").get_function_configuration(FunctionName=function_name)
    assert config["TracingConfig"]["Mode"] == "Active"
    assert config["KMSKeyArn"] == key_arn
    group = emulator.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{function_name}"
    )["logGroups"][0]
    assert group["retentionInDays"] >= 365


def test_payments_run_through_the_state_machine_and_the_lambda(
    emulator: Emulator, local_environment: Any
) -> None:
    outputs = local_environment.outputs
    sfn = emulator.client("stepfunctions")
    machine = outputs["payment_state_machine_arn"]["value"]

    approved = run_execution(sfn, machine, payment(PAN))
    expired = run_execution(sfn, machine, payment("5555555555554444", exp_year=2020))

    assert approved.status == expired.status == "SUCCEEDED"
    assert approved.output == {
        "id": approved.name,
        "status": "validated",
        "card": {"brand": "visa", "last4": "4242"},
    }
    assert expired.output is not None and expired.output["status"] == "rejected"
    assert expired.output["error"]["code"] == "expired_card"
    assert expired.output["error"]["param"] == "payment_method.card.exp_year"

    table = outputs["payments_table_name"]["value"]
    dynamodb = emulator.client("dynamodb")
    record = dynamodb.get_item(
        TableName=table, Key={"payment_id": {"S": approved.name}}, ConsistentRead=True
    )["Item"]
    assert record["status"]["S"] == "validated"
    assert (record["card_brand"]["S"], record["card_last4"]["S"]) == ("visa", "4242")
    assert record["amount"]["N"] == "2599"
    rejected = dynamodb.get_item(
        TableName=table, Key={"payment_id": {"S": expired.name}}, ConsistentRead=True
    )["Item"]
    assert rejected["error_code"]["S"] == "expired_card"
    stored = json.dumps(dynamodb.scan(TableName=table)["Items"])
    assert PAN not in stored and "5555555555554444" not in stored


def test_no_card_number_reaches_the_function_logs(
    emulator: Emulator, local_environment: Any
) -> None:
    outputs = local_environment.outputs
    sfn = emulator.client("stepfunctions")
    run_execution(sfn, outputs["payment_state_machine_arn"]["value"], payment(PAN))
    run_execution(sfn, outputs["payment_state_machine_arn"]["value"], payment("4242424242424241"))
    function_name = outputs["function_names"]["value"]["validate_payment"]
    text = "\n".join(emulator.log_messages(f"/aws/lambda/{function_name}"))
    assert "REPORT RequestId" in text and "payment rejected" in text
    assert PAN not in text and "4242424242424241" not in text


def test_the_demo_runs_every_payment_to_its_outcome(
    emulator: Emulator, local_environment: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = {name: value["value"] for name, value in local_environment.outputs.items()}
    assert run_demo(emulator.endpoint, outputs, emulator.api_endpoint) == 0
    printed = capsys.readouterr().out
    lines = [
        line
        for line in printed.split("The tokenization vault")[0].splitlines()
        if line.startswith("  ")
    ]
    assert len(lines) == len(scripted_payments())
    vault = printed.split("The tokenization vault")[1]
    assert "FAILED" not in vault
    assert "refused    detokenize by the merchant: HTTP 403 detokenize_not_permitted" in vault
    assert "the original number returned" in vault and "5555555555554444" not in printed
    by_label = {label: line for (label, _), line in zip(scripted_payments(), lines, strict=True)}
    assert by_label["Visa"].split()[0] == "validated" and "visa ****4242" in by_label["Visa"]
    assert "amex ****0005" in by_label["American Express"]
    assert "invalid_number (param payment_method.card.number)" in by_label["invalid number"]
    assert "expired_card (param payment_method.card.exp_year)" in by_label["expired card"]
    assert "parameter_invalid (param amount)" in by_label["zero amount"]
    assert not any("FAILED" in line or "Traceback" in line for line in lines)


@pytest.fixture(scope="module")
def api_env(local_environment: Any) -> dict[str, Any]:
    return {name: value["value"] for name, value in local_environment.outputs.items()}


def test_the_vault_tokenizes_and_only_the_allowed_role_detokenizes(
    emulator: Emulator, api_env: dict[str, Any]
) -> None:
    merchant = ApiClient(
        emulator.api_endpoint, user_credentials(emulator.client("iam"), "merchant-e2e"), "m_e2e"
    )
    created = merchant.post("/v1/tokens", {"number": PAN, "cvc": "123", "customer_id": "cus_1"})
    assert created.status == 201, created.body
    token = created.body["token"]
    assert (created.body["brand"], created.body["last4"]) == ("visa", "4242")
    assert token.startswith("tok_") and PAN not in json.dumps(created.body)
    again = merchant.post("/v1/tokens", {"number": PAN, "customer_id": "cus_1"})
    assert again.body["token"] == token  # same card, same tenant and customer: deduplicated

    refused = merchant.post(f"/v1/tokens/{token}/detokenize", {"purpose": "chargeback"})
    assert refused.status == 403
    assert refused.body["error"]["code"] == "detokenize_not_permitted"

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
    assert token in audit and "chargeback" in audit and "detokenize_not_permitted" in audit
    for function in ("tokenize_function", "detokenize_function"):
        text = "\n".join(emulator.log_messages(f"/aws/lambda/{api_env['vault'][function]}"))
        assert "REPORT RequestId" in text
        assert PAN not in text
    assert PAN not in audit


def test_the_applied_plan_passes_the_pci_scan_with_resolved_values(
    local_environment: Any, tmp_path: Path
) -> None:
    runner = local_environment.terraform
    plan_file = tmp_path / "tfplan"
    runner.plan(str(plan_file))
    shown = subprocess.run(
        ["terraform", "show", "-json", str(plan_file)],
        cwd=runner.module_dir,
        env={**os.environ, "TF_DATA_DIR": str(runner.work_dir)},
        check=True,
        capture_output=True,
        text=True,
    )
    # Where `make compliance` writes it, so exceptions scoped to environments/local apply.
    plan_json = tmp_path / "environments" / "local" / "tfplan.json"
    plan_json.parent.mkdir(parents=True)
    plan_json.write_text(shown.stdout)
    # Resolved values the HCL scan cannot see: default tags, subnets handed between modules.
    planned = json.loads(shown.stdout)["planned_values"]["root_module"]
    assert planned
    out = tmp_path / "reports"
    assert (
        scan.main(
            ["--scan", str(runner.module_dir), "--plan-json", str(plan_json), "--out", str(out)]
        )
        == 0
    )
    report = json.loads((out / "pci-dss.json").read_text())
    assert report["summary"]["failed"] == 0
    assert str(plan_json) in " ".join(report["scanned"]) or any(
        "tfplan.json" in item for item in report["scanned"]
    )
