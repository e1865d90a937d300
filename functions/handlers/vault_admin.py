"""Lambda (not behind the API): vault administration, invoked by operators or schedules.

Events (each names ``requested_by``, the IAM principal ARN of the person or system that asked
for it: it is the audited actor):
    {"action": "erase_customer", "tenant_id": "...", "customer_id": "...", "requested_by": "..."}
        -> {"action", "tenant_id", "customer_id", "customer_key_deleted", "items_deleted"}
        Crypto-shreds the customer (GDPR erasure): the customer key first, then the records.
    {"action": "rewrap", "issued_before"?: <epoch seconds>, "requested_by": "..."}
        -> {"action", "customer_keys_rewrapped", "tokens_rewrapped", "skipped", "failed"}
        Moves token records (record data keys, ``vault = data-key``) and customer keys (wrapping
        keys, ``vault = customer-key``) to the current vault KMS key (after a key change) or to
        fresh data keys; also moves customer keys still wrapped under a record data key.

Both are audited (``vault.erasure`` / ``vault.rewrap`` on the audit log group and bus) with
``requested_by`` as actor, this function as ``source_function`` and the Lambda request id as
``request_id`` (PCI DSS 10.2.1/10.2.2). ``requested_by`` is what the invoker states; it is
corroborated by the CloudTrail data event of the Invoke call, which carries the same request id
and the real calling identity (the audit trail must select Lambda data events for this
function). A bad event answers ``{"error": {...}}``, a vault outage raises.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from functions.adapters.vault_wiring import build_vault
from functions.domain.vault import Caller, Vault, VaultError, VaultUnavailableError
from functions.errors import ApiError, from_validation_error
from functions.models.tokens import vault_api_error, vault_function_settings

logger = Logger()
tracer = Tracer()

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requested_by: str = Field(pattern=r"^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:[A-Za-z0-9+=,.@_/-]+$")


class EraseCustomer(_Action):
    action: Literal["erase_customer"]
    tenant_id: str = Field(pattern=_ID)
    customer_id: str = Field(pattern=_ID)


class Rewrap(_Action):
    action: Literal["rewrap"]
    issued_before: int | None = Field(default=None, gt=0, strict=True)


AdminEvent = TypeAdapter(Annotated[EraseCustomer | Rewrap, Field(discriminator="action")])


@cache
def vault() -> Vault:
    return build_vault(vault_function_settings(), audited=True)


def administer(event: dict[str, Any], actor: str, request_id: str | None) -> dict[str, Any]:
    if event.get("action") not in ("erase_customer", "rewrap"):
        return {
            "error": ApiError(
                "invalid_request_error",
                "parameter_invalid",
                "action must be erase_customer or rewrap.",
                "action",
            ).to_dict()
        }
    try:
        command = AdminEvent.validate_python(event)
    except ValidationError as error:
        return {"error": from_validation_error(error).to_dict()}
    del actor  # the function's own ARN: the audit sink records it as source_function
    caller = Caller(command.requested_by)
    try:
        if isinstance(command, EraseCustomer):
            erased = vault().erase_customer(
                command.tenant_id, command.customer_id, caller=caller, request_id=request_id
            )
            outcome: dict[str, Any] = {
                "action": command.action,
                "tenant_id": erased.tenant_id,
                "customer_id": erased.customer_id,
                "customer_key_deleted": erased.customer_key_deleted,
                "items_deleted": erased.items_deleted,
            }
        else:
            moved = vault().rewrap(
                caller=caller, issued_before=command.issued_before, request_id=request_id
            )
            outcome = {
                "action": command.action,
                "customer_keys_rewrapped": moved.customer_keys_rewrapped,
                "tokens_rewrapped": moved.tokens_rewrapped,
                "skipped": moved.skipped,
                "failed": moved.failed,
                "orphaned": moved.orphaned,
            }
    except VaultUnavailableError:
        raise
    except VaultError as exc:
        return {"error": vault_api_error(exc).to_dict()}
    logger.info("vault administered", extra=outcome)
    return outcome


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return administer(event, context.invoked_function_arn, context.aws_request_id)
