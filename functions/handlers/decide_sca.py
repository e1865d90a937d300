"""Lambda: the workflow's PSD2 strong customer authentication step.

``decide``: applies the RTS exemptions (low value with its counters, transaction risk analysis
by the configured fraud-rate band, fixed-amount recurring after a first SCA, merchant-initiated
out of scope) and, when SCA is required, opens a 3-D Secure challenge at the access control
server. ``verify``: checks the cardholder's answer to that challenge when the payment resumes,
and hands the workflow the payment's saved state to continue from.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters import payment_wiring as wiring
from functions.adapters.payments_table import PaymentsTable, StaleWriteError
from functions.domain.payments import PaymentRuleError, PaymentStatus
from functions.domain.sca import (
    Exemption,
    LowValueCounter,
    RecurringMandate,
    ScaPolicy,
    ScaRequest,
    decide,
)
from functions.domain.three_ds import AccessControlServer, Challenge

logger = Logger()
tracer = Tracer()
COUNTER_WRITE_ATTEMPTS = 3


def card_key(card: dict[str, Any]) -> str:
    return str(card.get("fingerprint") or card["token"])


def _mandate(table: PaymentsTable, merchant_id: str, key: str) -> RecurringMandate | None:
    found = table.read_mandate(merchant_id, key)
    if found is None:
        return None
    return RecurringMandate(
        amount_minor=found["amount"],
        currency=found["currency"],
        merchant_id=found["merchant_id"],
        authenticated=bool(found["authenticated"]),
    )


def decide_payment(
    payment: dict[str, Any],
    table: PaymentsTable,
    policy: ScaPolicy,
    acs: AccessControlServer,
    now: dt.datetime,
) -> dict[str, Any]:
    key = card_key(payment["card"])
    requested = (payment.get("sca_preferences") or {}).get("exemption_requested")
    exemption = Exemption(requested) if requested else None
    mandate = (
        _mandate(table, payment["merchant_id"], key) if exemption is Exemption.RECURRING else None
    )
    for _ in range(COUNTER_WRITE_ATTEMPTS):
        consecutive, cumulative, version = table.read_counter(key)
        decision = decide(
            ScaRequest(
                merchant_id=payment["merchant_id"],
                amount_minor=payment["amount"],
                currency=payment["currency"],
                exemption_requested=exemption,
                fraud_decision=payment["fraud"]["result"]["decision"],
                counter=LowValueCounter(consecutive, cumulative),
                mandate=mandate,
            ),
            policy,
        )
        after = decision.counter_after
        if (after.consecutive, after.cumulative_eur_minor) == (consecutive, cumulative):
            break
        try:
            table.write_counter(key, after.consecutive, after.cumulative_eur_minor, version)
            break
        except StaleWriteError:
            continue  # a concurrent payment on the same card counted first: decide again
    else:
        raise StaleWriteError(f"low-value counter for card kept changing ({key[:8]}…)")
    answer: dict[str, Any] = {
        "required": decision.required,
        "exemption": str(decision.exemption) if decision.exemption else None,
        "reason": decision.reason,
        "amount_eur_minor": decision.amount_eur_minor,
    }
    if decision.required:
        challenge = acs.start_challenge(payment["payment_id"], now)
        answer["challenge"] = {
            "type": "three_ds_challenge",
            "challenge_id": challenge.challenge_id,
            "method": challenge.method,
            "expires_at": challenge.expires_at.isoformat(timespec="seconds"),
        }
    logger.info(
        "sca decided",
        extra={
            "payment_id": payment["payment_id"],
            **{k: answer[k] for k in ("required", "exemption", "reason")},
        },
    )
    return answer


def verify_challenge(
    payment_id: str,
    response: str,
    table: PaymentsTable,
    acs: AccessControlServer,
    now: dt.datetime,
) -> dict[str, Any]:
    payment = table.get(payment_id)
    if payment is None:
        return PaymentRuleError(
            "resource_missing", f"No payment {payment_id}.", "payment_id", 404
        ).to_answer()
    if payment.status is not PaymentStatus.REQUIRES_ACTION or not payment.next_action:
        return PaymentRuleError(
            "payment_unexpected_state",
            f"Only a payment that requires action can be resumed; this one is {payment.status}.",
            None,
            409,
        ).to_answer()
    action = payment.next_action
    challenge = Challenge(
        challenge_id=action["challenge_id"],
        payment_id=payment_id,
        method=action["method"],
        expires_at=dt.datetime.fromisoformat(action["expires_at"]),
    )
    result = acs.verify(challenge, response, now)
    context = dict(payment.resume_context or {})
    context["sca"] = {
        "result": {
            "required": True,
            "exemption": None,
            "reason": result.reason,
            "authenticated": result.authenticated,
            "eci": result.eci,
            "authentication_value": result.authentication_value,
        }
    }
    if result.authenticated:
        key = card_key(context["card"])
        _, _, version = table.read_counter(key)
        try:
            table.write_counter(key, 0, 0, version)
        except StaleWriteError:
            logger.info("low-value counter reset raced; the next decision re-reads it")
        requested = (context.get("sca_preferences") or {}).get("exemption_requested")
        if requested == Exemption.RECURRING.value:
            table.write_mandate(payment.merchant_id, key, payment.amount, payment.currency)
    logger.info("challenge verified", extra={"payment_id": payment_id, "reason": result.reason})
    return {"authenticated": result.authenticated, "payment": context}


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    if event.get("action") == "verify":
        response = str((event.get("resume") or {}).get("challenge_response", ""))
        return verify_challenge(
            event["payment_id"],
            response,
            wiring.payments_table(),
            wiring.access_control_server(),
            now,
        )
    return decide_payment(
        event["payment"],
        wiring.payments_table(),
        wiring.sca_policy(),
        wiring.access_control_server(),
        now,
    )
