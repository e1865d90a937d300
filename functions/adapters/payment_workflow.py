"""The Payment API's ports on AWS: the EXPRESS workflow run synchronously (Step Functions
``StartSyncExecution``) and the idempotency store (Powertools idempotency on DynamoDB), and
the API's use cases built over them once per container (``payment_commands``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from functions.adapters import clients
from functions.adapters import payment_wiring as wiring
from functions.contracts.steps import ProcessAnswer
from functions.domain.principals import AuthenticatedMerchant
from functions.services.payment_commands import (
    ApiAnswer,
    Execution,
    IdempotencyCommand,
    KeyReusedError,
    PaymentCommands,
    RequestInProgressError,
)
from functions.services.payment_listing import PaymentListing

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_stepfunctions import SFNClient

logger = Logger(child=True)
IDEMPOTENCY_TTL_S = 24 * 60 * 60


class StepFunctionsWorkflow:
    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._client = client
        self._arn = state_machine_arn

    def run(self, execution: Execution) -> ProcessAnswer:
        # Starting a run is idempotent only for STANDARD workflows; an EXPRESS name may be
        # refused once used (the emulator does, as for STANDARD). A client's retry after a run
        # that failed half-way (the API function died after the workflow started) must run the
        # workflow again, whose steps find their own earlier work: so each attempt gets its own
        # name, prefixed with the derived one, by which a payment's runs are still found.
        response = self._client.start_sync_execution(
            stateMachineArn=self._arn,
            name=f"{execution.name}-{uuid.uuid4().hex[:12]}",
            input=json.dumps(execution.payload()),
        )
        if response["status"] != "SUCCEEDED":
            # Compensation catches every step's failure, so this is a defect or an outage: 5xx,
            # and the idempotency record is released so that the client may retry.
            logger.error(
                "payment workflow did not succeed",
                extra={"status": response["status"], "error": response.get("error")},
            )
            raise RuntimeError(f"workflow {response['status']}")
        return ProcessAnswer.model_validate_json(response.get("output") or "{}")


@cache
def idempotency_config() -> IdempotencyConfig:
    """One per container: the handler registers each invocation's context on it."""
    # A key belongs to the merchant, not to an endpoint: the endpoint and the payment it names
    # are part of what a reuse must match, as the body is.
    return IdempotencyConfig(
        event_key_jmespath="[merchant_id, key]",
        payload_validation_jmespath="[operation, target, digest]",
        hash_function="sha256",
        expires_after_seconds=IDEMPOTENCY_TTL_S,
    )


def _run(command: dict[str, Any], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return work()


class PowertoolsIdempotencyStore:
    """The answer is stored as JSON data (``{status, body}``, the shape earlier versions
    stored too) and read back into an ``ApiAnswer``."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)
        self._run: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="command",
            persistence_store=persistence,
            config=idempotency_config(),
        )(_run)

    def once(self, command: IdempotencyCommand, work: Callable[[], ApiAnswer]) -> ApiAnswer:
        try:
            stored = self._run(
                command=command.model_dump(),
                work=lambda: work().model_dump(mode="json", exclude_unset=True),
            )
        except IdempotencyValidationError:
            raise KeyReusedError from None
        except IdempotencyAlreadyInProgressError:
            raise RequestInProgressError from None
        return ApiAnswer.model_validate(stored)


@cache
def payment_commands() -> PaymentCommands:
    """One per container. Here rather than in ``payment_wiring``, which every payment function
    imports: only the API function pays for importing the workflow and idempotency adapters."""
    settings = wiring.settings()
    return PaymentCommands(
        wiring.payments_table(),
        AuthenticatedMerchant(),
        wiring.amount_caps(),
        StepFunctionsWorkflow(clients.stepfunctions(), settings.required("state_machine_arn")),
        PowertoolsIdempotencyStore(clients.dynamodb(), settings.required("idempotency_table")),
    )


@cache
def payment_listing() -> PaymentListing:
    """``GET /v1/payments`` over the payments table's ``by_merchant`` index."""
    return PaymentListing(wiring.payments_table())
