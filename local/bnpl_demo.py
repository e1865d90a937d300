"""``make demo``'s BNPL purchase: a ``pay_in_4`` checkout through ``POST /v1/payments`` (decided
with reasons, planned exactly, the first instalment captured on the customer's card token), the
payment read back, and the second instalment collected by one collections run as of its due
date, as the daily schedule runs it on AWS (the emulator delivers no scheduled events)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from local.api_client import ApiClient, ApiResponse

APPROVE = "4242424242424242"
# An applicant the scorecard approves (docs/models/credit.md's fields): declared, never scored on
# age, sex or nationality.
APPLICANT = {
    "date_of_birth": "1990-05-17",
    "finances": {"monthly_net_income": 300_000, "monthly_commitments": 100_000},
    "profile": {
        "checking_account": "high",
        "credit_history": "paid_duly",
        "purpose": "electronics",
        "savings": "from_500",
        "employment": "from_4y",
        "other_debtors": "none",
        "property": "real_estate",
        "other_instalment_plans": "none",
        "housing": "own",
    },
}
AMOUNT = 20_000


def _status(response: ApiResponse) -> str | None:
    return response.body.get("status") if isinstance(response.body, dict) else None


def run_bnpl_demo(
    api: ApiClient, merchant_id: str, collect: Callable[[str], dict[str, Any]]
) -> int:
    """The failures (0 when every step answered as expected). ``collect``: one collections run
    as of the given day (``local.bnpl_collections.collect`` on the deployed bnpl function)."""
    print("\nBuy Now Pay Later through the same API and workflow (a pay_in_4 plan):")
    failures = 0

    def line(ok: bool, label: str, detail: str) -> None:
        nonlocal failures
        failures += 0 if ok else 1
        print(f"  {'ok    ' if ok else 'FAILED'} {label:34s} {detail}", flush=True)

    run = uuid.uuid4().hex[:8]
    token = api.post("/v1/tokens", {"number": APPROVE, "customer_id": f"cus_bnpl_{run}"})
    if token.status != 201:
        line(False, "card token for the instalments", f"HTTP {token.status} {token.body}")
        return failures
    request = {
        "merchant_id": merchant_id,
        "amount": AMOUNT,
        "currency": "EUR",
        "payment_method": {
            "type": "bnpl",
            "plan": "pay_in_4",
            "token": token.body["token"],
            "applicant": APPLICANT,
        },
        "customer": {"id": f"cus_bnpl_{run}", "country": "DE"},
    }
    bought = api.post("/v1/payments", request, idempotency_key=f"{run}-bnpl")
    body = bought.body if isinstance(bought.body, dict) else {}
    bnpl = body.get("bnpl") or {}
    instalments = bnpl.get("instalments") or []
    line(
        _status(bought) == "captured"
        and bnpl.get("outcome") == "approved"
        and sum(i["amount"] for i in instalments) == AMOUNT,
        "BNPL approved, 1st instalment paid",
        f"HTTP {bought.status} {body.get('status')} EUR {body.get('amount')}: "
        + ", ".join(f"{i['due_date']} {i['amount']} {i['status']}" for i in instalments),
    )
    if _status(bought) != "captured" or len(instalments) < 2:
        return failures
    read = api.get(f"/v1/payments/{body['id']}")
    line(
        _status(read) == "captured"
        and (read.body.get("bnpl") or {}).get("plan_id") == bnpl["plan_id"],
        "BNPL payment read back",
        f"GET /v1/payments/{body['id']}: {_status(read)}, plan {bnpl['plan_id']}",
    )
    due = instalments[1]["due_date"]
    report = collect(due)
    plan = api.get(f"/v1/bnpl/plans/{bnpl['plan_id']}")
    statuses = [i["status"] for i in (plan.body or {}).get("instalments", [])]
    line(
        statuses[:2] == ["collected", "collected"] and report.get("collected", 0) >= 1,
        "BNPL 2nd instalment collected",
        f"collections run as of {due}: {report.get('collected')} collected, "
        f"{report.get('missed')} missed; plan {', '.join(statuses)}",
    )
    return failures
