"""Lambda: the Payment API's merchant authorizer (an API Gateway REQUEST authorizer, identity
source the ``Authorization`` header; docs/decisions/0008).

``Authorization: Bearer sk_<mode>_<key id>_<secret>`` of a working key -> an IAM policy that
allows the stage's routes (API Gateway caches it per header value for the TTL, so it must not
depend on the route) and ``context = {merchant_id, key_id, key_prefix}``, which the functions
read from ``requestContext.authorizer``, and ``usageIdentifierKey``, the merchant's API Gateway
API key, by which the usage plan of its tier throttles it (429 THROTTLED). A working key of a
suspended or closed merchant -> a Deny of every route with ``context = {merchant_id,
refusal_code, refusal_message}``: API Gateway answers 403 ``ACCESS_DENIED``, whose gateway
response reads the code and message (a Deny is cached like an Allow, so a suspension or a
reactivation takes up to the cache TTL).
Anything else -> ``Unauthorized``, which API Gateway answers as 401 (our error shape through
the gateway responses). A registry failure raises: API Gateway answers 500
``AUTHORIZER_FAILURE``, and nobody is let in.

Neither the key nor the header is ever logged: a refusal logs its reason only.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters.merchant_wiring import registry
from functions.contracts.merchants import AuthorizerContext, AuthorizerRefusal
from functions.domain.merchant_keys import Denied, Rejection

logger = Logger()
tracer = Tracer()
# The one message API Gateway turns into a 401 rather than a 500.
UNAUTHORIZED = "Unauthorized"


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayAuthorizerRequestEvent(event)
    outcome = registry().authenticate(request.headers.get("Authorization"))
    if isinstance(outcome, Rejection):
        logger.warning("api key refused", extra={"reason": outcome.value})
        raise PermissionError(UNAUTHORIZED)
    arn = request.parsed_arn
    if isinstance(outcome, Denied):
        logger.warning("merchant refused", extra={"reason": outcome.code})
        passed_on = AuthorizerRefusal(
            merchant_id=outcome.merchant_id,
            refusal_code=outcome.code,
            refusal_message=outcome.message,
        ).model_dump()
    else:
        passed_on = AuthorizerContext(
            merchant_id=outcome.merchant_id, key_id=outcome.key_id, key_prefix=outcome.prefix
        ).model_dump()
    answer = APIGatewayAuthorizerResponse(
        principal_id=outcome.merchant_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        partition=arn.partition,
        context=passed_on,
        # The merchant's usage-plan API key: API Gateway throttles the request by its plan.
        usage_identifier_key=None if isinstance(outcome, Denied) else outcome.usage_key,
    )
    if isinstance(outcome, Denied):
        answer.deny_all_routes()
    else:
        answer.allow_all_routes()
    return answer.asdict()
