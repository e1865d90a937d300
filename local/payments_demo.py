"""The scripted payments of ``make demo``, through the Payment API on the local emulator.

Each scenario says what it expects and the demo checks it, so a wrong answer is a FAILED line
and a non-zero exit rather than a plausible-looking transcript. Card numbers are the acquirer
simulator's test cards (docs/test-cards.md).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.api_client import ApiClient, ApiResponse

NEXT_YEAR = dt.date.today().year + 1
MERCHANT = "merchant_demo"
APPROVE = "4242424242424242"
INSUFFICIENT_FUNDS = "4000000000009995"
CAPTURE_FAILS = "4000000000000341"
ANSWERS_LOST = "4000000000000259"
SOFT_DECLINE = "4000000000003220"
MASTERCARD = "5555555555554444"
ACS_PASSING_CODE = "123456"


def payment_request(
    number: str,
    amount: int,
    *,
    currency: str = "EUR",
    capture: bool = True,
    merchant: str = MERCHANT,
    ip: str = "192.0.2.10",
    country: str = "DE",
    device: str = "dev_demo",
) -> dict[str, Any]:
    return {
        "merchant_id": merchant,
        "amount": amount,
        "currency": currency,
        "capture": capture,
        "payment_method": {
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": NEXT_YEAR, "cvc": "123"},
        },
        "customer": {"id": "cus_demo", "ip": ip, "country": country, "device_id": device},
    }


def status(response: ApiResponse) -> str | None:
    return response.body.get("status") if isinstance(response.body, dict) else None


@dataclass
class Check:
    label: str
    ok: bool
    line: str


@dataclass
class PaymentsDemo:
    """Runs the scenarios against one API client and keeps what it saw."""

    api: ApiClient
    # Each run is its own merchant (a vault tenant): a second run on the same emulator starts
    # with fresh card velocity and fresh idempotency keys.
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    checks: list[Check] = field(default_factory=list)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)

    def request(self, number: str, amount: int, **kwargs: Any) -> dict[str, Any]:
        # The merchant the client's API key names, which is the only one it may pay for.
        merchant = self.api.merchant_id or f"{MERCHANT}_{self.run_id}"
        return payment_request(number, amount, merchant=merchant, **kwargs)

    def create(self, request: dict[str, Any], key: str | None = None) -> ApiResponse:
        return self.api.post("/v1/payments", request, idempotency_key=key or uuid.uuid4().hex)

    def check(
        self, label: str, response: ApiResponse, expect: Callable[[ApiResponse], bool]
    ) -> bool:
        body = response.body if isinstance(response.body, dict) else {}
        if "error" in body:
            error = body["error"]
            summary = f"HTTP {response.status} {error.get('code')} (param {error.get('param')})"
        else:
            card = body.get("card") or {}
            summary = (
                f"HTTP {response.status} {body.get('status', '?'):18s} "
                f"{body.get('currency', '')} {body.get('amount', '')!s:>6} "
                f"{card.get('brand', '')} ****{card.get('last4', '')}"
            )
            extra = [
                f"captured {body['amount_captured']}" if body.get("amount_captured") else "",
                f"refunded {body['amount_refunded']}" if body.get("amount_refunded") else "",
                f"declined {body['decline_code']}" if body.get("decline_code") else "",
                f"failure {body['failure_code']}" if body.get("failure_code") else "",
                f"SCA exemption {body['sca']['exemption']}"
                if (body.get("sca") or {}).get("exemption")
                else "",
                f"fraud {body['fraud']['score']} {','.join(body['fraud']['reasons'])}"
                if (body.get("fraud") or {}).get("reasons")
                else "",
            ]
            summary += "  " + "; ".join(e for e in extra if e)
        ok = bool(expect(response))
        self.checks.append(Check(label, ok, summary))
        print(f"  {'ok    ' if ok else 'FAILED'} {label:34s} {summary}", flush=True)
        return ok

    def run(self) -> int:
        approved = self.create(self.request(APPROVE, 2500), key=f"{self.run_id}-approved")
        self.check(
            "approved and captured", approved, lambda r: r.status == 201 and status(r) == "captured"
        )
        if approved.status == 201:
            self.payments["approved"] = approved.body
        again = self.create(self.request(APPROVE, 2500), key=f"{self.run_id}-approved")
        self.check(
            "same Idempotency-Key, same body",
            again,
            lambda r: r.status == 201 and r.body.get("id") == approved.body.get("id"),
        )
        reused = self.create(self.request(APPROVE, 2600), key=f"{self.run_id}-approved")
        self.check(
            "same key, another body",
            reused,
            lambda r: r.status == 422 and r.body["error"]["code"] == "idempotency_key_reused",
        )

        later = self.create(self.request(MASTERCARD, 8000, capture=False))
        self.check("authorized only", later, lambda r: status(r) == "authorized")
        if later.status == 201:
            partial = self.api.post(f"/v1/payments/{later.body['id']}/capture", {"amount": 5000})
            self.check(
                "partial capture",
                partial,
                lambda r: status(r) == "captured" and r.body["amount_captured"] == 5000,
            )

        self.check(
            "declined by the issuer",
            self.create(self.request(INSUFFICIENT_FUNDS, 1500)),
            lambda r: status(r) == "declined" and r.body["decline_code"] == "insufficient_funds",
        )
        self.check(
            "fraud-blocked",
            self.create(self.request(APPROVE, 600_000, ip="203.0.113.7")),
            lambda r: status(r) == "declined" and r.body["decline_code"] == "fraud_suspected",
        )

        challenged = self.create(self.request(APPROVE, 25_000, device="dev_sca"))
        self.check(
            "SCA required: 3-D Secure challenge",
            challenged,
            lambda r: (
                status(r) == "requires_action"
                and r.body["next_action"]["type"] == "three_ds_challenge"
            ),
        )
        if challenged.status == 201:
            resumed = self.api.post(
                f"/v1/payments/{challenged.body['id']}/resume",
                {"challenge_response": ACS_PASSING_CODE},
            )
            self.check(
                "challenge passed, payment resumed", resumed, lambda r: status(r) == "captured"
            )

        # Sent without authentication (a US issuer: one leg out, so SCA is not mandated), the
        # issuer answers authentication_required (a soft decline, Visa 1A / Mastercard 65): the
        # workflow steps up to a challenge instead of declining, and the authenticated retry is
        # approved under a new acquirer key.
        soft = self.create(self.request(SOFT_DECLINE, 2000, device="dev_demo_soft"))
        self.check(
            "issuer soft decline stepped up to a challenge",
            soft,
            lambda r: (
                status(r) == "requires_action"
                and r.body["next_action"]["type"] == "three_ds_challenge"
                and r.body["sca"]["reason"] == "issuer_authentication_required"
            ),
        )
        if status(soft) == "requires_action":
            self.check(
                "challenge after the soft decline passed, payment captured",
                self.api.post(
                    f"/v1/payments/{soft.body['id']}/resume",
                    {"challenge_response": ACS_PASSING_CODE},
                ),
                lambda r: status(r) == "captured",
            )

        if "approved" in self.payments:
            pid = self.payments["approved"]["id"]
            self.check(
                "partial refund",
                self.api.post(
                    f"/v1/payments/{pid}/refunds",
                    {"amount": 1000},
                    idempotency_key=f"{self.run_id}-refund-1",
                ),
                lambda r: status(r) == "partially_refunded" and r.body["amount_refunded"] == 1000,
            )
            self.check(
                "refund of the rest",
                self.api.post(
                    f"/v1/payments/{pid}/refunds", {}, idempotency_key=f"{self.run_id}-refund-2"
                ),
                lambda r: status(r) == "refunded" and r.body["amount_refunded"] == 2500,
            )
            self.check(
                "refund beyond what was captured",
                self.api.post(
                    f"/v1/payments/{pid}/refunds",
                    {"amount": 1},
                    idempotency_key=f"{self.run_id}-refund-3",
                ),
                lambda r: r.status == 400 and r.body["error"]["code"] == "charge_already_refunded",
            )

        # The acquirer executes this card's capture and refund but their first answers are lost:
        # the workflow asks again under the same key and nothing is refunded twice.
        lost = self.create(self.request(ANSWERS_LOST, 1500))
        self.check("capture whose answer was lost", lost, lambda r: status(r) == "captured")
        if status(lost) == "captured":
            pid = lost.body["id"]
            self.check(
                "refund whose answer was lost, resolved by the same key",
                self.api.post(
                    f"/v1/payments/{pid}/refunds", {}, idempotency_key=f"{self.run_id}-lost-1"
                ),
                lambda r: status(r) == "refunded" and r.body["refunds"][0]["status"] == "succeeded",
            )
            self.check(
                "no second refund under a new key",
                self.api.post(
                    f"/v1/payments/{pid}/refunds", {}, idempotency_key=f"{self.run_id}-lost-2"
                ),
                lambda r: r.status == 400 and r.body["error"]["code"] == "charge_already_refunded",
            )

        self.check(
            "capture fails after authorization",
            # Its own device: the demo's 10+ payments on dev_demo this hour fire velocity_device,
            # and a fraud "review" steps up to SCA instead of being exempted (RTS Art. 2).
            self.create(self.request(CAPTURE_FAILS, 3000, device="dev_demo_capture")),
            lambda r: status(r) == "canceled" and r.body["failure_code"] == "processing_error",
        )
        self.check(
            "bad input: amount 0",
            self.create({**self.request(APPROVE, 1), "amount": 0}),
            lambda r: r.status == 400 and r.body["error"]["param"] == "amount",
        )
        self.check(
            "bad input: card number fails Luhn",
            self.create(self.request("4242424242424241", 1000)),
            lambda r: r.status == 402 and r.body["error"]["param"] == "payment_method.card.number",
        )
        return sum(1 for c in self.checks if not c.ok)


def run_payments_demo(api: ApiClient) -> tuple[int, PaymentsDemo]:
    print("\nPayments through the Payment API (a merchant's API key) and the EXPRESS workflow:")
    demo = PaymentsDemo(api)
    failures = demo.run()
    print(f"\n{len(demo.checks)} checks, {failures} failed")
    return failures, demo


def print_reconciliation(report: dict[str, Any]) -> int:
    print("\nReconciliation (payments table x ledger x published events):")
    print(
        f"  {report['checked_payments']} payments checked, "
        f"{len(report['mismatches'])} mismatches, {len(report.get('repaired', []))} repaired, "
        f"{report.get('canceled', 0)} stale holds canceled"
    )
    for stale in report.get("canceled_payments", []):
        print(f"  - canceled stale hold: {stale['payment_id']} ({stale['reason']})")
    for stale in report.get("stale", []):
        print(f"  - stale hold not canceled: {stale['payment_id']} ({stale['reason']})")
    for payment_id in report.get("stuck_authorizations", []):
        print(f"  - stuck authorizing: {payment_id} (void it by its authorize idempotency key)")
    for mismatch in report["mismatches"][:10]:
        print(f"  - {mismatch['kind']}: {mismatch['payment_id']} {mismatch['detail']}")
    return 0 if report["ok"] else 1


# The emulator's workers stamp records with their own clocks, which may run a little behind
# the caller's: a window that starts this much before the run still holds its first payment.
CLOCK_SLACK = dt.timedelta(minutes=1)


def reconcile_since(now: dt.datetime | None = None) -> dt.datetime:
    """Where a run's own reconciliation window starts (``reconcile(..., since=...)``), taken
    before its first payment: the demo, ``make chaos`` and the end-to-end tests reconcile what
    they made, not the emulator's whole day."""
    return (now or dt.datetime.now(dt.UTC)) - CLOCK_SLACK


def reconcile(
    lambda_client: Any, function_name: str, repair: bool = False, since: dt.datetime | None = None
) -> dict[str, Any]:
    """Invokes the reconcile function by hand. ``since`` narrows its window to what a run made
    (without it, the last day): the function reads the event record at a paced rate, so a day
    of 15-minute slices costs the emulator about half a minute per run."""
    request: dict[str, Any] = {"repair": repair}
    if since is not None:
        request["since"] = since.isoformat()
    answer = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps(request).encode())
    payload = json.loads(answer["Payload"].read())
    if answer.get("FunctionError"):
        raise RuntimeError(f"reconcile failed: {payload}")
    return dict(payload)
