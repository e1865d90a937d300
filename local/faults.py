"""Faults injected into the emulator at run time: what a dependency does to a workload on a bad day.

A plan is a list of rules, each a fault with a probability per matching operation. It is set,
read and cleared while the emulator runs through ``/_local/faults`` on the emulator's endpoint
(``PUT`` a plan, ``GET`` it with what was injected so far, ``DELETE`` to stop); no restart, so a
chaos run can turn faults on after the stack is applied and off before it checks invariants.

Only the workload is faulted: requests signed with temporary credentials (a role session: the
Lambda workers, the Step Functions tasks) and Lambda invocations. Terraform and the tests sign
with the emulator's long-term keys and never see a fault, so an apply under a plan still works.

What each fault does, and why it is the one AWS produces:
- ``throttle``: the service's throttling error before the request runs (DynamoDB and Kinesis
  ``ProvisionedThroughputExceededException``, the others ``ThrottlingException``); the SDK's
  retry policy sees what it sees on AWS.
- ``internal_error``: HTTP 500 before the request runs (``InternalServerError`` for DynamoDB,
  ``InternalFailure`` elsewhere), retried by the SDK as on AWS.
- ``transaction_conflict``: ``TransactWriteItems`` cancelled with ``TransactionConflict`` on
  one of its items (another transaction held it), nothing written.
- ``partial_failure``: ``PutEvents`` accepts some entries and fails the others with
  ``InternalFailure``; the failed ones are not delivered, as the caller is told.
- ``kill_worker``: the function's runtime dies, before its handler runs or after it did its work
  but before it answers (both: at random); the caller gets ``Runtime.ExitError`` and the next
  invocation starts a new execution environment.
- ``timeout``: the handler runs to the end, its answer is lost and the caller gets
  ``Sandbox.Timedout``, as when a function's work outlives its timeout by a hair.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PATH = "/_local/faults"
Fault = Literal[
    "throttle",
    "internal_error",
    "transaction_conflict",
    "partial_failure",
    "kill_worker",
    "timeout",
]
# Which faults make sense where: a rule that asks for another is refused when the plan is set.
ONLY_FOR: dict[str, tuple[str, str]] = {
    "transaction_conflict": ("dynamodb", "TransactWriteItems"),
    "partial_failure": ("events", "PutEvents"),
    "kill_worker": ("lambda", "Invoke"),
    "timeout": ("lambda", "Invoke"),
}
THROTTLE_ERROR = {
    "dynamodb": "ProvisionedThroughputExceededException",
    "kinesis": "ProvisionedThroughputExceededException",
}
INTERNAL_ERROR = {"dynamodb": "InternalServerError"}


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str = Field(
        min_length=1, description="The signing name (dynamodb, kms, events, lambda...) or *."
    )
    operation: str = Field(default="*", min_length=1, description="The API action, or *.")
    fault: Fault
    probability: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def fits_the_operation(self) -> Rule:
        if self.fault in ONLY_FOR:
            service, operation = ONLY_FOR[self.fault]
            if self.service != service or self.operation not in (operation, "*"):
                raise ValueError(f"{self.fault} applies to {service} {operation} only")
        return self

    def matches(self, service: str, operation: str) -> bool:
        return self.service in (service, "*") and self.operation in (operation, "*")


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[Rule] = Field(default_factory=list, max_length=64)
    seed: int | None = Field(default=None, description="Makes a run's faults repeatable.")


class Injector:
    """The plan in force and what it injected; safe to use from every server thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plan = Plan()
        # Not for secrets: a seeded generator makes a chaos run's faults repeatable.
        self._random = random.Random()  # noqa: S311
        self._injected: Counter[str] = Counter()

    def set(self, plan: Plan) -> None:
        with self._lock:
            self._plan = plan
            self._random = random.Random(plan.seed)  # noqa: S311
            self._injected.clear()

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"plan": self._plan.model_dump(), "injected": dict(self._injected)}

    def draw(self, service: str, operation: str, faults: Iterable[str] | None = None) -> str | None:
        """The fault to inject into this call, if a rule fires (the first matching rule that
        fires wins); ``faults`` limits the draw to the kinds the caller can inject."""
        with self._lock:
            for rule in self._plan.rules:
                if faults is not None and rule.fault not in faults:
                    continue
                if rule.matches(service, operation) and self._random.random() < rule.probability:
                    self._injected[f"{service}:{operation}:{rule.fault}"] += 1
                    return rule.fault
            return None

    def choose(self, population: int, probability_of: str) -> list[bool]:
        """Per item of a batch, whether it fails (partial failures), with the rule's odds."""
        with self._lock:
            odds = next((r.probability for r in self._plan.rules if r.fault == probability_of), 0.0)
            return [self._random.random() < odds for _ in range(population)]

    def coin(self) -> bool:
        with self._lock:
            return self._random.random() < 0.5

    def pick(self, population: int) -> int:
        with self._lock:
            return self._random.randrange(population)


INJECTOR = Injector()


# --- the WSGI side: faults answered before moto sees the request ------------------------------


def signing_service(environ: dict[str, Any]) -> str | None:
    """The service in the SigV4 credential scope (``Credential=AKID/date/region/service/...``)."""
    authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
    marker = "Credential="
    if marker not in authorization:
        return None
    scope = authorization.split(marker, 1)[1].split(",", 1)[0].split("/")
    return scope[3] if len(scope) > 3 else None


def operation_of(environ: dict[str, Any]) -> str | None:
    """The action of a JSON-protocol request (``X-Amz-Target: DynamoDB_20120810.PutItem``)."""
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    return target.rsplit(".", 1)[1] if "." in target else None


def error_response(service: str, fault: str, body: bytes, injector: Injector) -> tuple[str, bytes]:
    if fault == "throttle":
        error = THROTTLE_ERROR.get(service, "ThrottlingException")
        return "400 Bad Request", _error(error, "Rate exceeded (injected fault)")
    if fault == "internal_error":
        error = INTERNAL_ERROR.get(service, "InternalFailure")
        return "500 Internal Server Error", _error(error, "Internal failure (injected fault)")
    # transaction_conflict: one reason per item, as DynamoDB answers a cancelled transaction.
    items = len(json.loads(body or b"{}").get("TransactItems", [])) or 1
    conflicted = injector.pick(items)
    reasons = [
        {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
        if index == conflicted
        else {"Code": "None"}
        for index in range(items)
    ]
    codes = ", ".join(reason["Code"] for reason in reasons)
    return "400 Bad Request", json.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": f"Transaction cancelled, please refer cancellation reasons for specific "
            f"reasons [{codes}] (injected fault)",
            "CancellationReasons": reasons,
        }
    ).encode()


def _error(error_type: str, message: str) -> bytes:
    return json.dumps({"__type": error_type, "message": message}).encode()


StartResponse = Callable[..., Any]


def middleware(application: Any, injector: Injector = INJECTOR) -> Any:
    """Wraps moto's WSGI application: serves ``/_local/faults`` and answers faulted calls."""
    before = ("throttle", "internal_error", "transaction_conflict")

    def passed_on(environ: dict[str, Any], start_response: StartResponse, session: bool) -> Any:
        # Backend-side faults (install) read who called from here: moto runs the request
        # within this call, on this thread.
        _request.session = session
        try:
            return application(environ, start_response)
        finally:
            _request.session = False

    def app(environ: dict[str, Any], start_response: StartResponse) -> Any:
        if environ.get("PATH_INFO") == PATH:
            return _control(environ, start_response, injector)
        if not environ.get("HTTP_X_AMZ_SECURITY_TOKEN"):
            return passed_on(environ, start_response, False)  # long-term keys: never faulted
        service, operation = signing_service(environ), operation_of(environ)
        fault = None
        if service is not None and operation is not None:
            fault = injector.draw(service, operation, before)
        if fault is None:
            return passed_on(environ, start_response, True)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, answer = error_response(str(service), fault, body, injector)
        start_response(
            status,
            [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(answer)))],
        )
        return [answer]

    return app


def _control(environ: dict[str, Any], start_response: StartResponse, injector: Injector) -> Any:
    method = environ.get("REQUEST_METHOD")
    status = "200 OK"
    if method == "PUT":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            injector.set(Plan.model_validate_json(environ["wsgi.input"].read(length) or b"{}"))
        except ValidationError as error:
            status = "400 Bad Request"
            answer = json.dumps({"error": json.loads(error.json(include_url=False))}).encode()
            start_response(status, [("Content-Type", "application/json")])
            return [answer]
    elif method == "DELETE":
        injector.set(Plan())
    elif method != "GET":
        start_response("405 Method Not Allowed", [("Allow", "GET, PUT, DELETE")])
        return [b""]
    answer = json.dumps(injector.describe()).encode()
    start_response(status, [("Content-Type", "application/json")])
    return [answer]


# --- the backend side: faults that need the request's content ---------------------------------


def install(injector: Injector = INJECTOR) -> None:
    """PutEvents partial failures: some entries are refused before moto delivers any."""
    from moto.events.models import EventsBackend

    original = EventsBackend.put_events
    if getattr(original, "_faulted", False):
        return

    def put_events(self: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        drawn = _from_session() and injector.draw("events", "PutEvents", ("partial_failure",))
        if not drawn or not entries:
            return original(self, entries)
        failing = injector.choose(len(entries), "partial_failure")
        if not any(failing):
            failing[injector.pick(len(entries))] = True
        kept = [entry for entry, failed in zip(entries, failing, strict=True) if not failed]
        delivered = iter(original(self, kept) if kept else [])
        return [
            {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal failure (injected fault)"}
            if failed
            else next(delivered)
            for failed in failing
        ]

    put_events._faulted = True  # type: ignore[attr-defined]
    EventsBackend.put_events = put_events  # type: ignore[method-assign,assignment]


_request = threading.local()


def _from_session() -> bool:
    return bool(getattr(_request, "session", False))
