"""The scripted payments of ``make demo``: one readable line per payment, then a summary."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from local.api_client import ApiClient, role_credentials, user_credentials
from local.aws import emulator_client
from local.workflow_client import ExecutionOutcome, run_execution

NEXT_YEAR = dt.date.today().year + 1


def card_payment(
    number: str,
    amount: int,
    currency: str = "EUR",
    cvc: str = "123",
    exp_year: int = NEXT_YEAR,
    exp_month: int = 12,
) -> dict[str, Any]:
    return {
        "merchant_id": "merchant_demo",
        "amount": amount,
        "currency": currency,
        "capture": True,
        "payment_method": {
            "type": "card",
            "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc},
        },
        "customer": {
            "id": "cus_demo",
            "ip": "203.0.113.7",
            "country": "DE",
            "device_id": "dev_demo",
        },
    }


def scripted_payments() -> list[tuple[str, dict[str, Any]]]:
    unknown_field = copy.deepcopy(card_payment("4242424242424242", 1200))
    unknown_field["amount"] = 0
    return [
        ("Visa", card_payment("4242424242424242", 2500)),
        ("Mastercard (2-series)", card_payment("2223003122003222", 4999, "GBP")),
        ("American Express", card_payment("378282246310005", 12000, "USD", cvc="1234")),
        ("JCB", card_payment("3566002020360505", 3000, "JPY")),
        ("Discover", card_payment("6011111111111117", 1500, "USD")),
        ("invalid number", card_payment("4242424242424241", 2500)),
        ("expired card", card_payment("5555555555554444", 2500, exp_year=2021, exp_month=3)),
        ("zero amount", unknown_field),
    ]


def describe(label: str, request: dict[str, Any], outcome: ExecutionOutcome) -> str:
    money = f"{request.get('currency', '?')} {request.get('amount', '?')!s:>6}"
    if outcome.status != "SUCCEEDED" or outcome.output is None:
        return f"  FAILED    {label:24s} {money}  {outcome.error}: {outcome.cause}"
    result = outcome.output
    if result["status"] == "rejected":
        error = result["error"]
        return f"  rejected  {label:24s} {money}  {error['code']} (param {error['param']})"
    card = result["card"]
    return (
        f"  {result['status']:9s} {label:24s} {money}  {card['brand']} ****{card['last4']}"
        f"  {result['id']}"
    )


def run_vault_demo(endpoint_url: str, api_url: str, outputs: dict[str, object]) -> int:
    """Tokenize a card through the Payment API, then detokenize it as two different callers."""
    api_name = str(outputs["api_name"])
    merchant = ApiClient(
        api_url,
        user_credentials(emulator_client("iam", endpoint_url), "merchant-demo"),
        "merchant_demo",
        api_name,
    )
    role = str(outputs["detokenizer_role_arn"])
    chargebacks = ApiClient(
        api_url,
        role_credentials(emulator_client("sts", endpoint_url), role, "demo"),
        "merchant_demo",
        api_name,
    )
    print("\nThe tokenization vault through the Payment API (SigV4-signed):")
    card = {"number": "5555555555554444", "cvc": "123", "customer_id": "cus_demo"}
    created = merchant.post("/v1/tokens", card)
    again = merchant.post("/v1/tokens", card)
    checks: list[tuple[bool, str]] = []
    if created.status != 201:
        print(f"  FAILED    tokenize: HTTP {created.status} {created.body}")
        return 1
    token = created.body["token"]
    checks.append(
        (True, f"  tokenized  {created.body['brand']} ****{created.body['last4']} -> {token}")
    )
    checks.append(
        (again.body.get("token") == token, "  deduped    the same card again -> the same token")
    )
    refused = merchant.post(f"/v1/tokens/{token}/detokenize", {"purpose": "chargeback"})
    checks.append(
        (
            refused.status == 403,
            f"  refused    detokenize by the merchant: HTTP {refused.status} "
            f"{(refused.body or {}).get('error', {}).get('code')}",
        )
    )
    revealed = chargebacks.post(f"/v1/tokens/{token}/detokenize", {"purpose": "chargeback"})
    matches = revealed.status == 200 and revealed.body.get("number") == card["number"]
    checks.append(
        (
            matches,
            f"  revealed   to {role.rsplit('/', 1)[-1]}: HTTP {revealed.status}, "
            f"the original number {'returned' if matches else 'NOT returned'} "
            "(not printed), the call audited",
        )
    )
    for ok, line in checks:
        print(line if ok else line.replace("  ", "  FAILED ", 1))
    return sum(1 for ok, _ in checks if not ok)


def run_demo(endpoint_url: str, outputs: dict[str, object], api_url: str | None = None) -> int:
    sfn = emulator_client("stepfunctions", endpoint_url)
    state_machine_arn = str(outputs["payment_state_machine_arn"])
    print("\nPayments through the EXPRESS state machine on the local emulator:")
    statuses: dict[str, int] = {}
    failures = 0
    for label, request in scripted_payments():
        outcome = run_execution(sfn, state_machine_arn, request)
        print(describe(label, request, outcome), flush=True)
        if outcome.status != "SUCCEEDED" or outcome.output is None:
            failures += 1
            continue
        status = str(outcome.output["status"])
        statuses[status] = statuses.get(status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    print(
        f"\n{len(scripted_payments())} payments: {summary}"
        + (f", {failures} FAILED" if failures else "")
    )
    if api_url is not None:
        failures += run_vault_demo(endpoint_url, api_url, outputs)
    return 1 if failures else 0
