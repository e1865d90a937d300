"""The local API: API Gateway's REST proxy, served on 127.0.0.1 from the emulator's own state.

Terraform creates the REST API on the emulator exactly as on AWS (resources, methods, Lambda
proxy integrations, a stage). This server reads that definition from moto, matches each request
to a resource and method, builds the API Gateway proxy event (version 1.0) and invokes the
deployed function through the emulator's Lambda runtime; the function's answer becomes the HTTP
response. So the local API serves the contract the Terraform defines, with the same code.

What clients see of API Gateway itself is served as AWS serves it: a CUSTOM method runs its
Lambda REQUEST authorizer on the emulator (the identity source header, the invoke permission,
the answer's policy evaluated against the method ARN, ``context`` passed on as
``requestContext.authorizer``, the answer cached per identity value for the authorizer's TTL);
required header parameters are checked; a body is validated against the method's request model
(JSON Schema draft 4, as API Gateway's validator does); and the API's gateway responses
(``aws_api_gateway_gateway_response``) shape every refusal API Gateway makes itself, falling
back to API Gateway's own ``{"message": ...}`` where the API defines none.

Differences from AWS (README.md lists them): one REST API is served at the root (see
``find_api``); AWS_IAM authorization reads the caller's access key from
the SigV4 ``Authorization`` header and resolves it to the IAM user or assumed role, but does not
verify the signature; usage plans throttle and count the API key a method requires
(``local/usage_plans.py``); WAF rules are not evaluated; an unknown path or
method is a 404 or 405 (AWS: 403 ``MISSING_AUTHENTICATION_TOKEN``).
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema

from local import enforcement, metering
from local.http_server import BackloggedHTTPServer
from local.lambda_runtime import InvocationResult
from local.usage_plans import UsagePlans

LOG = logging.getLogger("local.api")
LAMBDA_URI = re.compile(
    r"arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(?P<arn>.+)/invocations"
)
SIGV4_CREDENTIAL = re.compile(r"Credential=(?P<key>[A-Z0-9]+)/")
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit

Invoke = Callable[[Any, dict[str, Any]], InvocationResult]
# API Gateway's default authorizer cache TTL when the authorizer names none.
DEFAULT_AUTHORIZER_TTL_S = 300


@dataclass(frozen=True)
class Route:
    api: Any
    resource: Any
    method: Any
    path_parameters: dict[str, str]
    resource_path: str


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = ""
    for part in template.strip("/").split("/"):
        if not part:
            continue
        if part.startswith("{") and part.endswith("+}"):
            pattern += f"/(?P<{part[1:-2]}>.+)"
        elif part.startswith("{") and part.endswith("}"):
            pattern += f"/(?P<{part[1:-1]}>[^/]+)"
        else:
            pattern += "/" + re.escape(part)
    return re.compile(f"^{pattern or '/'}$")


def _backends() -> list[Any]:
    from moto.apigateway.models import apigateway_backends

    return [
        backend
        for regions in list(apigateway_backends.values())
        for backend in list(regions.values())
    ]


API_NAME_HEADER = "X-Api-Name"


def find_api(selector: str | None) -> tuple[Any | None, str]:
    """The deployed REST API a request is for, or None and the reason.

    AWS tells APIs apart by host name; locally one API is served at the root: the one the
    ``X-Api-Name`` header names (by name or id), else the one ``LOCAL_API_NAME`` names, else the
    only one deployed.
    """
    deployed = [api for backend in _backends() for api in list(backend.apis.values()) if api.stages]
    wanted = selector or os.environ.get("LOCAL_API_NAME")
    if wanted:
        named = [api for api in deployed if wanted in (api.name, api.id)]
        return (named[-1], "") if named else (None, f"No deployed REST API is named {wanted}.")
    if len(deployed) == 1:
        return deployed[0], ""
    if not deployed:
        return None, "No REST API is deployed on the emulator yet: run make up."
    names = ", ".join(sorted(api.name for api in deployed))
    return (
        None,
        f"Several REST APIs are deployed ({names}): name one in the {API_NAME_HEADER} header.",
    )


def match_route(api: Any, http_method: str, path: str) -> tuple[Route | None, bool]:
    """The route for a request, and whether the path exists at all (for 404 versus 405)."""
    path_known = False
    candidates = []
    for resource in list(api.resources.values()):
        template = resource.get_path()
        found = _template_regex(template).match(path)
        if not found:
            continue
        path_known = True
        method = resource.resource_methods.get(http_method) or resource.resource_methods.get("ANY")
        if method is not None:
            literal = sum(1 for part in template.split("/") if part and "{" not in part)
            candidates.append((literal, Route(api, resource, method, found.groupdict(), template)))
    if not candidates:
        return None, path_known
    return max(candidates, key=lambda pair: pair[0])[1], True


def caller_identity(authorization: str | None) -> dict[str, Any] | None:
    """Resolve the SigV4 access key to its IAM user or assumed role (signature not verified)."""
    if not authorization:
        return None
    found = SIGV4_CREDENTIAL.search(authorization)
    if not found:
        return None
    access_key = found["key"]
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    for account_id, partitions in list(iam_backends.items()):
        for backend in list(partitions.values()):
            key = backend.access_keys.get(access_key)
            if key is None:
                continue
            if key.role_arn:
                for regions in list(sts_backends.values()):
                    for sts in list(regions.values()):
                        for role in sts.assumed_roles:
                            if role.access_key_id == access_key:
                                return {
                                    "userArn": role.arn,
                                    "caller": role.user_id,
                                    "accessKey": access_key,
                                    "accountId": account_id,
                                }
                continue
            return {
                "userArn": f"arn:aws:iam::{account_id}:user/{key.user_name}",
                "caller": key.user_name,
                "accessKey": access_key,
                "accountId": account_id,
            }
    return None


def proxy_event(
    route: Route,
    http_method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    source_ip: str,
    identity: dict[str, Any] | None,
    stage: str,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    parsed_query = parse_qs(query, keep_blank_values=True)
    try:
        text_body: str | None = body.decode("utf-8") if body else None
        encoded = False
    except UnicodeDecodeError:
        text_body, encoded = base64.b64encode(body).decode(), True
    request_id = str(uuid.uuid4())
    return {
        "resource": route.resource_path,
        "path": path,
        "httpMethod": http_method,
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in parsed_query.items()} or None,
        "multiValueQueryStringParameters": parsed_query or None,
        "pathParameters": route.path_parameters or None,
        "stageVariables": None,
        "body": text_body,
        "isBase64Encoded": encoded,
        "requestContext": {
            "resourceId": route.resource.id,
            "resourcePath": route.resource_path,
            "httpMethod": http_method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": route.api.account_id,
            "apiId": route.api.id,
            "identity": {
                "sourceIp": source_ip,
                "userAgent": headers.get("User-Agent", ""),
                "userArn": (identity or {}).get("userArn"),
                "caller": (identity or {}).get("caller"),
                "accessKey": (identity or {}).get("accessKey"),
                "accountId": (identity or {}).get("accountId"),
            },
            **({"authorizer": authorizer} if authorizer is not None else {}),
        },
    }


class LocalApiGateway:
    def __init__(self, host: str, port: int, invoke: Invoke) -> None:
        self.invoke = invoke
        self.authorizers = AuthorizerCache(invoke)
        self.usage_plans = UsagePlans()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                LOG.info("%s %s", self.address_string(), format % args)

            def _serve(self) -> None:
                status, headers, body = gateway.handle(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    self.rfile.read(
                        min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
                    ),
                    self.client_address[0],
                )
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        self.server = BackloggedHTTPServer((host, port), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="local-api", daemon=True
        )

    @property
    def port(self) -> int:
        """The bound port (the one asked for, or the kernel's pick for 0)."""
        return int(self.server.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(
        self, http_method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(raw_path)
        if url.path.startswith(METER_PATH):
            return meter_response(http_method, url.path)
        # Every request reaching the stage is billed by API Gateway and inspected by its WAF.
        metering.count("api_requests")
        selector = next(
            (v for k, v in headers.items() if k.lower() == API_NAME_HEADER.lower()), None
        )
        api, reason = find_api(selector)
        if api is None:
            return gateway_error(404, reason)
        context: dict[str, Any] = {"started": time.time(), "ip": source_ip, "method": http_method}
        answer = self._serve(api, http_method, url, headers, body, source_ip, context)
        write_access_log(api, context, answer)
        return answer

    def _serve(
        self,
        api: Any,
        http_method: str,
        url: Any,
        headers: dict[str, str],
        body: bytes,
        source_ip: str,
        context: dict[str, Any],
    ) -> tuple[int, dict[str, str], bytes]:
        route, path_known = match_route(api, http_method, url.path)
        if route is None:
            # API Gateway answers both unknown paths and methods with 403 "Missing
            # Authentication Token"; the clearer 404/405 helps a developer more locally.
            return gateway_response(
                api,
                "DEFAULT_4XX" if path_known else "RESOURCE_NOT_FOUND",
                405 if path_known else 404,
                f"No route for {http_method} {url.path}.",
            )
        identity = None
        authorizer = None
        usage_key = None
        stage = next(iter(api.stages))
        context["resource_path"] = route.resource_path
        authorization = header_value(headers, "Authorization")
        if route.method.authorization_type == "AWS_IAM":
            if authorization and not authorization.startswith("AWS4-HMAC-SHA256 "):
                # Another scheme (a merchant's Bearer key) on a SigV4 route.
                return gateway_response(api, "INVALID_SIGNATURE", 403, "Invalid signature")
            identity = caller_identity(authorization)
            context["identity"] = identity
            if identity is None:
                return gateway_response(
                    api, "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token"
                )
        elif route.method.authorization_type == "CUSTOM":
            method_arn = (
                f"arn:aws:execute-api:{api.region_name}:{api.account_id}:{api.id}/{stage}/"
                f"{http_method}{url.path}"
            )
            decided = self.authorizers.authorize_with_usage_key(
                AuthRequest(api, route, method_arn, headers, url.query, source_ip, stage)
            )
            if isinstance(decided, Refusal):
                return gateway_response(
                    api, decided.response_type, decided.status, decided.text, decided.context
                )
            authorizer, usage_key = decided
            context["authorizer"] = authorizer
        if route.method.api_key_required:
            # After the authorizer, before the validator, as API Gateway orders them.
            source = getattr(api, "api_key_source", "HEADER")
            presented = usage_key if source == "AUTHORIZER" else header_value(headers, "x-api-key")
            over = self.usage_plans.admit(api, stage, presented)
            if over is not None:
                return gateway_response(api, over.response_type, over.status, over.text)
        missing = missing_header_parameters(route, headers)
        if missing:
            return gateway_response(
                api,
                "BAD_REQUEST_PARAMETERS",
                400,
                f"Missing required request parameters: [{', '.join(missing)}]",
            )
        invalid = body_refusal(api, route, headers, body)
        if invalid is not None:
            return gateway_response(api, "BAD_REQUEST_BODY", 400, invalid)
        integration = route.method.method_integration
        target = LAMBDA_URI.match(integration.uri or "") if integration else None
        if integration is None or integration.integration_type != "AWS_PROXY" or not target:
            return gateway_error(500, "Only Lambda proxy integrations are served locally.")
        function = lambda_function(target["arn"])
        if function is None:
            return gateway_error(502, "The integration's function does not exist.")
        source_arn = (
            f"arn:aws:execute-api:{api.region_name}:{api.account_id}:{api.id}/{stage}/"
            f"{http_method}{url.path}"
        )
        gateway = "apigateway.amazonaws.com"
        refusal = enforcement.service_invoke_refusal(function, gateway, source_arn)
        if refusal:
            # What API Gateway answers when the function's policy does not admit it (its
            # execution log: "Invalid permissions on Lambda function").
            LOG.info("denied: %s", refusal)
            return gateway_response(api, "API_CONFIGURATION_ERROR", 500, "Internal server error")
        event = proxy_event(
            route,
            http_method,
            url.path,
            url.query,
            headers,
            body,
            source_ip,
            identity,
            stage,
            authorizer,
        )
        result = self.invoke(function, event)
        status, answer_headers, data = proxy_response(result)
        if answer_headers.get("x-amzn-ErrorType") == "502":
            return gateway_response(api, "DEFAULT_5XX", 502, "Internal server error")
        return status, answer_headers, data


def header_value(headers: dict[str, str], name: str) -> str | None:
    """A request header by name, case-insensitively, as API Gateway reads them."""
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def missing_header_parameters(route: Route, headers: dict[str, str]) -> list[str]:
    """The headers the method requires (``method.request.header.X = true``) that the request
    lacks: what the request validator refuses before invoking anything. Path parameters are
    present whenever the route matched."""
    required = route.method.request_parameters or {}
    prefix = "method.request.header."
    return [
        name.removeprefix(prefix)
        for name, needed in required.items()
        if needed
        and name.startswith(prefix)
        and not (header_value(headers, name.removeprefix(prefix)) or "").strip()
    ]


def body_refusal(api: Any, route: Route, headers: dict[str, str], body: bytes) -> str | None:
    """What API Gateway's request validator finds wrong with a body, or None: the method's
    validator checks bodies and a model is mapped for the request's Content-Type (else for
    ``$default``); an empty body is checked as ``{}``, as API Gateway does. The answer is the
    validator's text (``$context.error.validationErrorString``)."""
    validators = getattr(api, "request_validators", {}) or {}
    validator = validators.get(getattr(route.method, "request_validator_id", None) or "")
    if validator is None or not validator.validate_request_body:
        return None
    models = route.method.request_models or {}
    content_type = (header_value(headers, "Content-Type") or "").split(";")[0].strip().lower()
    model = api.models.get(models.get(content_type) or models.get("$default") or "")
    if model is None:
        return None
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError:
        return "[Invalid request body]"
    problems = sorted(_body_validator(model.schema).iter_errors(data), key=lambda e: e.path)
    if not problems:
        return None
    return "[" + ", ".join(_problem_text(problem) for problem in problems) + "]"


@functools.lru_cache(maxsize=64)
def _body_validator(schema: str) -> jsonschema.Draft4Validator:
    # Compiled once per model text: a model changes only with a new apply.
    return jsonschema.Draft4Validator(json.loads(schema))


def _problem_text(problem: jsonschema.ValidationError) -> str:
    where = "/".join(str(part) for part in problem.absolute_path)
    return f"{problem.message} at /{where}" if where else problem.message


@dataclass(frozen=True)
class Refusal:
    response_type: str
    status: int
    text: str
    # The authorizer's context of a Deny: its gateway response may read it.
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthRequest:
    """What API Gateway hands a REQUEST authorizer about one request."""

    api: Any
    route: Route
    method_arn: str
    headers: dict[str, str]
    query: str
    source_ip: str
    stage: str


@dataclass(frozen=True)
class _Cached:
    expires: float
    policy: dict[str, Any]
    context: dict[str, Any]
    usage_key: str | None = None


class AuthorizerCache:
    """Runs an API's Lambda REQUEST authorizers as API Gateway does and caches their answers
    (policy and context) per authorizer and identity source value for the authorizer's TTL."""

    def __init__(self, invoke: Invoke, clock: Callable[[], float] = time.monotonic) -> None:
        self._invoke = invoke
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str, str], _Cached] = {}

    def authorize(self, request: AuthRequest) -> dict[str, Any] | Refusal:
        decided = self.authorize_with_usage_key(request)
        return decided if isinstance(decided, Refusal) else decided[0]

    def authorize_with_usage_key(
        self, request: AuthRequest
    ) -> tuple[dict[str, Any], str | None] | Refusal:
        """The context and the answer's ``usageIdentifierKey`` (the usage plan's API key when
        the API's ``api_key_source`` is ``AUTHORIZER``), or the refusal."""
        api, headers = request.api, request.headers
        authorizer = api.authorizers.get(request.route.method.authorizer_id or "")
        if authorizer is None or authorizer.type != "REQUEST":
            return Refusal("AUTHORIZER_CONFIGURATION_ERROR", 500, "Internal server error")
        identity = self._identity(authorizer, headers)
        if identity is None:
            # A missing identity source: 401 without invoking the authorizer.
            return Refusal("UNAUTHORIZED", 401, "Unauthorized")
        ttl = authorizer.authorizer_result_ttl
        ttl = DEFAULT_AUTHORIZER_TTL_S if ttl is None else int(ttl)
        key = (api.id, str(authorizer.id), identity)
        with self._lock:
            cached = self._answers.get(key)
        if cached is None or cached.expires <= self._clock():
            answer = self._ask(authorizer, request)
            if isinstance(answer, Refusal):
                return answer
            cached = _Cached(self._clock() + ttl, answer[0], answer[1], answer[2])
            if ttl > 0:
                with self._lock:
                    self._answers[key] = cached
        if not policy_allows(cached.policy, request.method_arn):
            return Refusal(
                "ACCESS_DENIED",
                403,
                "User is not authorized to access this resource",
                cached.context,
            )
        return cached.context, cached.usage_key

    @staticmethod
    def _identity(authorizer: Any, headers: dict[str, str]) -> str | None:
        values = []
        for source in (authorizer.identity_source or "").split(","):
            name = source.strip().removeprefix("method.request.header.")
            value = header_value(headers, name) if name != source.strip() else None
            if not value:
                return None
            values.append(value)
        return "\n".join(values) if values else None

    def _ask(
        self, authorizer: Any, request: AuthRequest
    ) -> tuple[dict[str, Any], dict[str, Any], str | None] | Refusal:
        api, route, stage, method_arn = (
            request.api,
            request.route,
            request.stage,
            request.method_arn,
        )
        target = LAMBDA_URI.match(authorizer.authorizer_uri or "")
        function = lambda_function(target["arn"]) if target else None
        if function is None:
            return Refusal("AUTHORIZER_CONFIGURATION_ERROR", 500, "Internal server error")
        source_arn = (
            f"arn:aws:execute-api:{api.region_name}:{api.account_id}:{api.id}"
            f"/authorizers/{authorizer.id}"
        )
        refusal = enforcement.service_invoke_refusal(
            function, "apigateway.amazonaws.com", source_arn
        )
        if refusal:
            LOG.info("authorizer not invocable: %s", refusal)
            return Refusal("AUTHORIZER_CONFIGURATION_ERROR", 500, "Internal server error")
        parsed_query = parse_qs(request.query, keep_blank_values=True)
        event = {
            "type": "REQUEST",
            "methodArn": method_arn,
            "resource": route.resource_path,
            "path": "/" + method_arn.split(f"/{stage}/", 1)[-1].split("/", 1)[-1],
            "httpMethod": route.method.http_method,
            "headers": request.headers,
            "multiValueHeaders": {k: [v] for k, v in request.headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in parsed_query.items()} or None,
            "multiValueQueryStringParameters": parsed_query or None,
            "pathParameters": route.path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.resource_path,
                "httpMethod": route.method.http_method,
                "stage": stage,
                "apiId": api.id,
                "accountId": api.account_id,
                "requestId": str(uuid.uuid4()),
                "identity": {"sourceIp": request.source_ip},
            },
        }
        result = self._invoke(function, event)
        if result.failed:
            try:
                message = json.loads(result.payload).get("errorMessage")
            except (ValueError, AttributeError):
                message = None
            if message == "Unauthorized":
                return Refusal("UNAUTHORIZED", 401, "Unauthorized")
            return Refusal("AUTHORIZER_FAILURE", 500, "Internal server error")
        try:
            answer = json.loads(result.payload)
            policy = dict(answer["policyDocument"])
            context = {str(k): v for k, v in (answer.get("context") or {}).items()}
            context["principalId"] = str(answer["principalId"])
            usage_key = answer.get("usageIdentifierKey")
        except (ValueError, KeyError, TypeError, AttributeError):
            return Refusal("AUTHORIZER_CONFIGURATION_ERROR", 500, "Internal server error")
        return policy, context, None if usage_key is None else str(usage_key)


def policy_allows(policy: dict[str, Any], method_arn: str) -> bool:
    """An authorizer's IAM policy for ``execute-api:Invoke`` on the method ARN: allowed by a
    statement, denied by none (``*`` and ``?`` are wildcards, as in IAM)."""

    def matches(statement: dict[str, Any]) -> bool:
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        return any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions) and any(
            fnmatch.fnmatchcase(method_arn, r) for r in resources
        )

    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    if any(s.get("Effect") == "Deny" and matches(s) for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and matches(s) for s in statements)


METER_PATH = "/_local/meter"
RESPONSE_HEADER = "gatewayresponse.header."
STATIC_VALUE = re.compile(r"'(?P<value>[^']*)'")
AUTHORIZER_VARIABLE = re.compile(r"\$context\.authorizer\.(?P<name>[A-Za-z0-9_]+)")
ACCESS_LOG_VARIABLE = re.compile(r"\$context\.[A-Za-z0-9_.]+")


def write_access_log(
    api: Any, context: dict[str, Any], answer: tuple[int, dict[str, str], bytes]
) -> None:
    """One line per request in the stage's access log format, into its log group, as API
    Gateway delivers access logs (the meter counts the bytes). Never fails the request."""
    try:
        stage = next(iter(api.stages.values()))
        settings = getattr(stage, "access_log_settings", None) or {}
        destination, template = settings.get("destinationArn"), settings.get("format")
        if not destination or not template:
            return
        identity = context.get("identity") or {}
        started = float(context["started"])
        values = {
            "$context.requestId": str(uuid.uuid4()),
            "$context.identity.sourceIp": context.get("ip", ""),
            "$context.identity.userArn": identity.get("userArn", ""),
            "$context.identity.caller": identity.get("caller", ""),
            "$context.requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "$context.httpMethod": context.get("method", ""),
            "$context.resourcePath": context.get("resource_path", ""),
            "$context.status": str(answer[0]),
            "$context.responseLength": str(len(answer[2])),
            "$context.responseLatency": str(int((time.time() - started) * 1000)),
        }
        line = ACCESS_LOG_VARIABLE.sub(lambda m: str(values.get(m.group(0), "-")), template)
        _deliver_log(destination, line)
    except Exception:
        LOG.exception("could not write the access log line")


def _deliver_log(destination_arn: str, line: str) -> None:
    from moto.logs.models import logs_backends

    parts = destination_arn.split(":")
    region, account, group = parts[3], parts[4], parts[6]
    backend = logs_backends[account][region]
    if group not in backend.groups:
        return
    stream = "local-api-access"
    if stream not in backend.groups[group].streams:
        backend.create_log_stream(group, stream)
    backend.put_log_events(group, stream, [{"timestamp": int(time.time() * 1000), "message": line}])


def meter_response(http_method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """The emulator's usage counters (local/metering.py): GET reads, POST .../reset clears."""
    if http_method == "POST" and path == f"{METER_PATH}/reset":
        metering.reset()
        return 204, {}, b""
    if http_method == "GET" and path == METER_PATH:
        body = json.dumps(metering.snapshot()).encode()
        return 200, {"Content-Type": "application/json"}, body
    return gateway_error(404, f"No route for {http_method} {path}.")


def lambda_function(function_arn: str) -> Any | None:
    from moto.awslambda.models import lambda_backends

    parts = function_arn.split(":")
    try:
        backend = lambda_backends[parts[4]][parts[3]]
        return backend.get_function(function_arn)
    except Exception:
        return None


def proxy_response(result: InvocationResult) -> tuple[int, dict[str, str], bytes]:
    if result.failed:
        return gateway_error(502, "Internal server error")
    try:
        response = json.loads(result.payload)
        status = int(response.get("statusCode", 200))
        headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
        # API Gateway merges multiValueHeaders into headers (Powertools' REST resolver answers
        # only those): without them a function's Content-Type and Cache-Control were lost.
        for name, values in (response.get("multiValueHeaders") or {}).items():
            merged = [headers[str(name)]] if str(name) in headers else []
            headers[str(name)] = ", ".join(merged + [str(v) for v in values])
        body = response.get("body") or ""
        data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    except (ValueError, AttributeError, TypeError):
        return gateway_error(502, "Malformed Lambda proxy response")
    return status, headers, data


def gateway_response(
    api: Any,
    response_type: str,
    status: int,
    message: str,
    authorizer: dict[str, Any] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """API Gateway's own answer of ``response_type``: the API's gateway response for it, else
    its DEFAULT_4XX or DEFAULT_5XX, else API Gateway's ``{"message": ...}``. ``authorizer`` is
    the authorizer's context, which a template reads as ``$context.authorizer.<name>``."""
    responses = getattr(api, "gateway_responses", {}) or {}
    family = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
    found = responses.get(response_type) or responses.get(family)
    if found is None:
        return gateway_error(status, message)
    template = (found.response_templates or {}).get("application/json")
    if template is None:
        return gateway_error(status, message)
    # The templates the platform defines use no variables; these are the ones API Gateway
    # offers every response, for any other API's.
    body = template.replace("$context.error.messageString", json.dumps(message)).replace(
        "$context.error.message", message
    )
    # Plain substitution, as API Gateway's (no VTL): a name the context lacks becomes "".
    body = AUTHORIZER_VARIABLE.sub(lambda m: str((authorizer or {}).get(m["name"], "")), body)
    code = int(found.status_code) if found.status_code else status
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": response_type}
    # Static header values ('...'), such as THROTTLED's Retry-After.
    for name, value in (getattr(found, "response_parameters", None) or {}).items():
        literal = STATIC_VALUE.fullmatch(str(value))
        if name.startswith(RESPONSE_HEADER) and literal:
            headers[name.removeprefix(RESPONSE_HEADER)] = literal["value"]
    return code, headers, body.encode()


def gateway_error(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"message": message}).encode()
    return status, {"Content-Type": "application/json", "x-amzn-ErrorType": str(status)}, body
