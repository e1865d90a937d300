"""``make demo``: the scripted payments (local/payments_demo.py), a BNPL purchase and its
collection (local/bnpl_demo.py), the reconciliation of what they left behind, and the
tokenization vault, all through the Payment API on the emulator."""

from __future__ import annotations

import uuid

from local.api_client import ApiClient, onboard, role_credentials
from local.aws import emulator_client
from local.bnpl_collections import collect
from local.bnpl_demo import run_bnpl_demo
from local.payments_demo import (
    print_reconciliation,
    reconcile,
    reconcile_since,
    run_payments_demo,
)


def run_vault_demo(endpoint_url: str, api_url: str, outputs: dict[str, object]) -> int:
    """Tokenize a card through the Payment API, then detokenize it as two different callers."""
    api_name = str(outputs["api_name"])
    merchant = merchant_client(endpoint_url, api_url, outputs)
    role = str(outputs["detokenizer_role_arn"])
    # Detokenize is signed with IAM by the platform's own role, never a merchant's API key.
    chargebacks = ApiClient(
        api_url,
        role_credentials(emulator_client("sts", endpoint_url), role, "demo"),
        merchant.merchant_id,
        api_name,
    )
    print("\nThe tokenization vault through the Payment API (an API key; detokenize SigV4-signed):")
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
            f"  refused    detokenize with the merchant's API key: HTTP {refused.status} "
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


def merchant_client(endpoint_url: str, api_url: str, outputs: dict[str, object]) -> ApiClient:
    """A merchant of its own (each run: fresh card velocity and idempotency keys) with a secret
    API key from the registry, as `make merchant` makes one."""
    issued = onboard(endpoint_url, outputs, f"merchant_demo_{uuid.uuid4().hex[:8]}")
    return ApiClient.for_merchant(api_url, issued, str(outputs["api_name"]))


def bnpl_purchase(endpoint_url: str, outputs: dict[str, object], merchant: ApiClient) -> int:
    """The BNPL purchase (local/bnpl_demo.py), its collection run on the deployed bnpl function."""
    credit = outputs["credit"]
    assert isinstance(credit, dict) and merchant.merchant_id is not None
    lambdas = emulator_client("lambda", endpoint_url)
    function = str(credit["bnpl_function_name"])
    return run_bnpl_demo(
        merchant, merchant.merchant_id, lambda day: collect(lambdas, function, day)
    )


def run_demo(endpoint_url: str, outputs: dict[str, object], api_url: str) -> int:
    started = reconcile_since()
    merchant = merchant_client(endpoint_url, api_url, outputs)
    failures, _ = run_payments_demo(merchant)
    failures += bnpl_purchase(endpoint_url, outputs, merchant)
    functions = outputs["function_names"]
    assert isinstance(functions, dict)
    report = reconcile(
        emulator_client("lambda", endpoint_url), str(functions["reconcile"]), since=started
    )
    failures += print_reconciliation(report)
    failures += run_vault_demo(endpoint_url, api_url, outputs)
    return 1 if failures else 0
