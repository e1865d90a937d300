"""Lambda: the credit routes of the Payment API v1 behind API Gateway.

``POST /v1/credit/decisions`` (an ``Idempotency-Key`` is required) decides a BNPL application
and answers 201 with the outcome, the ordered reasons and the schedule of the amount approved;
``GET /v1/credit/decisions/{id}`` and ``GET /v1/bnpl/plans/{id}`` read one back;
``POST /v1/bnpl/plans/{id}/settle`` settles a plan early (where BNPL checkout is deployed). A
merchant acts only for itself (the merchant its API key authenticated, from the authorizer):
another merchant's decision or plan answers 404, as one that does not exist.
``POST /v1/credit/decisions/{id}/reviews`` is the human review a consumer may ask for: it is
signed with IAM, not an API key, and only the lender's reviewers (``CREDIT_REVIEWER_PRINCIPALS``)
may call it, and the review records the signing principal as the reviewer. Rules live in
``services.credit_decisions``.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters.credit_wiring import bnpl_plans, credit_decisions, plan_store, reviewers
from functions.contracts.credit import CreditDecisionRequest, ReviewRequest
from functions.domain.principals import (
    AuthenticatedMerchant,
    authorized_merchant,
    principal_allowed,
    signing_principal,
)
from functions.errors import ApiError, merchant_not_permitted
from functions.handlers.vault_api import install_error_handlers, json_response
from functions.models.tokens import ApiProblem
from functions.services.credit_decisions import CreditDecisions
from functions.services.credit_plans import plan_for
from functions.services.payment_commands import IDEMPOTENCY_HEADER, idempotency_key, required_key

logger = Logger()
tracer = Tracer()
app = APIGatewayRestResolver(enable_validation=True)
install_error_handlers(app, logger, "credit request")


def _caller() -> str:
    return signing_principal(app.current_event.raw_event)


def _is_reviewer() -> bool:
    return principal_allowed(_caller(), reviewers())


def _may_act_for(merchant_id: str) -> bool:
    caller = authorized_merchant(app.current_event.raw_event)
    return AuthenticatedMerchant().may_act_for(caller, merchant_id)


@app.post("/v1/credit/decisions")
def create_decision(request: Annotated[CreditDecisionRequest, Body()]) -> Response[str]:
    key = required_key(idempotency_key(app.current_event.headers.get(IDEMPOTENCY_HEADER)))
    if not _may_act_for(request.merchant_id):
        raise ApiProblem(merchant_not_permitted("merchant_id"))
    record = credit_decisions().decide(request, key)
    return json_response(201, CreditDecisions.view(record).model_dump(mode="json"))


@app.get("/v1/credit/decisions/<decision_id>")
def get_decision(decision_id: str) -> Response[str]:
    record = credit_decisions().get(decision_id, lambda m: _is_reviewer() or _may_act_for(m))
    return json_response(200, CreditDecisions.view(record).model_dump(mode="json"))


@app.post("/v1/credit/decisions/<decision_id>/reviews")
def review_decision(decision_id: str, request: Annotated[ReviewRequest, Body()]) -> Response[str]:
    if not _is_reviewer():
        raise ApiProblem(
            ApiError(
                "permission_error",
                "reviewer_not_permitted",
                "Only the lender's credit reviewers may review a decision.",
                None,
                403,
            )
        )
    record = credit_decisions().review(decision_id, request, _caller())
    view = CreditDecisions.view(record).model_dump(mode="json")
    return json_response(201, {**view, "reviews": [r.model_dump() for r in record.reviews]})


@app.get("/v1/bnpl/plans/<plan_id>")
def get_plan(plan_id: str) -> Response[str]:
    plan = plan_for(plan_store(), plan_id, _may_act_for)
    return json_response(200, plan.model_dump(mode="json", exclude={"version", "claim"}))


@app.post("/v1/bnpl/plans/<plan_id>/settle")
def settle_plan(plan_id: str) -> Response[str]:
    """Early settlement: everything the plan still owes charged now on the same card token."""
    plan = plan_for(plan_store(), plan_id, _may_act_for)
    settled = bnpl_plans().settle_early(plan.id, plan.merchant_id)
    return json_response(200, settled.model_dump(mode="json", exclude={"version", "claim"}))


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
