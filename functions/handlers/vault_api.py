"""What the vault's API handlers share: the error answers, in the Payment API's shape."""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from functions.domain.vault import VaultError
from functions.errors import ApiError, from_request_validation
from functions.models.tokens import ApiProblem, vault_api_error

NO_STORE = {"Cache-Control": "no-store"}
NOT_AN_OBJECT = "The body must be a JSON object."


def json_response(status: int, body: object) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers=dict(NO_STORE),
    )


def install_error_handlers(
    app: APIGatewayRestResolver, logger: Logger, action: str, *, card_param: str | None = None
) -> None:
    """Every failure of ``app`` answers ``{"error": {type, code, message, param}}``: bad input
    a 4xx naming the field, a vault failure its public code, anything else a bare 500 (never a
    traceback or an exception message, which could quote the input)."""

    def answer(error: ApiError) -> Response[str]:
        logger.info(f"{action} refused", extra={"code": error.code, "param": error.param})
        return json_response(error.status, {"error": error.to_dict()})

    def _json_object_body(
        app: APIGatewayRestResolver, next_middleware: NextMiddleware
    ) -> Response[str]:
        # Powertools' validation reads a one-element JSON array as its element, so
        # ``[{...}]`` would be accepted as ``{...}``: every body a route reads is an object.
        raw = app.current_event.decoded_body if app.current_event.body else None
        # An object is left to the route's own parse; only other bodies are read here.
        if raw and not raw.lstrip().startswith("{"):
            try:
                data = json.loads(raw)
            except ValueError:
                data = {}  # malformed JSON: the route's own validation answers body_invalid
            if not isinstance(data, dict):
                return answer(ApiError("invalid_request_error", "body_invalid", NOT_AN_OBJECT))
        return next_middleware(app)

    app.use(middlewares=[_json_object_body])

    @app.exception_handler(ApiProblem)  # type: ignore[untyped-decorator]  # Powertools: untyped
    def _problem(exc: ApiProblem) -> Response[str]:
        return answer(exc.error)

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid(exc: RequestValidationError) -> Response[str]:
        # Powertools' body validation (enable_validation): the same answer as parse_body's.
        return answer(from_request_validation(exc.errors()))

    @app.exception_handler(UnicodeDecodeError)  # type: ignore[untyped-decorator]
    def _not_utf8(exc: UnicodeDecodeError) -> Response[str]:
        # A base64 body (binary content) that is not UTF-8 fails in Powertools' decoding,
        # before any model reads it: the client's bad input, not our failure.
        return answer(
            ApiError(
                "invalid_request_error",
                "body_invalid",
                "The body must be a JSON object encoded as UTF-8.",
                None,
                400,
            )
        )

    @app.exception_handler(VaultError)  # type: ignore[untyped-decorator]  # Powertools: untyped
    def _vault_error(exc: VaultError) -> Response[str]:
        if exc.http_status >= 500:
            logger.error("vault failure", extra={"code": exc.code})
        return answer(vault_api_error(exc, card_param=card_param))

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]  # Powertools: untyped
    def _unexpected(exc: Exception) -> Response[str]:
        logger.error("unexpected error", extra={"error_type": type(exc).__name__})
        return answer(
            ApiError("api_error", "api_error", "The request could not be completed.", None, 500)
        )

    @app.not_found
    def _not_found(exc: Exception) -> Response[str]:
        return answer(
            ApiError("invalid_request_error", "resource_missing", "No such route.", None, 404)
        )
