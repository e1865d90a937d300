# What API Gateway answers itself (the authorizer, IAM signing, the request validator, WAF,
# throttling, a route that does not exist) in the API's own error shape,
# {"error": {"type", "code", "message", "param"}}, instead of {"message": ...}: a client parses
# one shape whoever refused it. The local API answers these same bodies (local/api_gateway.py).
# Messages are fixed: a template cannot JSON-escape the validator's text. ACCESS_DENIED is the
# exception: on the merchant routes only the merchant authorizer's Deny produces it (a working
# key of a suspended or closed merchant), and its code and message are the authorizer's context
# (refusal_code, refusal_message: fixed strings of ours, functions/domain/merchant_keys.py). A
# gateway response substitutes variables but runs no logic, so the one other source of an
# ACCESS_DENIED, an IAM policy refusing one of the platform's own roles on an IAM route, gets
# the same shape with an empty code and message (its CloudTrail record says which role).

locals {
  gateway_responses = {
    UNAUTHORIZED                   = { status = 401, type = "authentication_error", code = "api_key_invalid", param = "Authorization", message = "A valid secret API key is required: Authorization: Bearer sk_..." }
    ACCESS_DENIED                  = { status = 403, type = "permission_error", code = "$context.authorizer.refusal_code", param = null, message = "$context.authorizer.refusal_message" }
    MISSING_AUTHENTICATION_TOKEN   = { status = 403, type = "authentication_error", code = "authentication_missing", param = "Authorization", message = "No credentials, or no such route." }
    INVALID_SIGNATURE              = { status = 403, type = "authentication_error", code = "signature_invalid", param = "Authorization", message = "The request signature does not match." }
    EXPIRED_TOKEN                  = { status = 403, type = "authentication_error", code = "credentials_expired", param = "Authorization", message = "The credentials have expired." }
    INVALID_API_KEY                = { status = 403, type = "authentication_error", code = "api_key_invalid", param = "x-api-key", message = "The API key is not valid." }
    WAF_FILTERED                   = { status = 403, type = "permission_error", code = "request_blocked", param = null, message = "The request was blocked by the firewall." }
    THROTTLED                      = { status = 429, type = "rate_limit_error", code = "rate_limited", param = null, message = "Too many requests: retry later with the same Idempotency-Key." }
    QUOTA_EXCEEDED                 = { status = 429, type = "rate_limit_error", code = "quota_exceeded", param = null, message = "The request quota is exhausted." }
    BAD_REQUEST_PARAMETERS         = { status = 400, type = "invalid_request_error", code = "parameter_missing", param = "Idempotency-Key", message = "A required request parameter is missing: the Idempotency-Key header." }
    BAD_REQUEST_BODY               = { status = 400, type = "invalid_request_error", code = "body_invalid", param = null, message = "The body must be a JSON object of the route's model." }
    REQUEST_TOO_LARGE              = { status = 413, type = "invalid_request_error", code = "request_too_large", param = null, message = "The request is too large." }
    UNSUPPORTED_MEDIA_TYPE         = { status = 415, type = "invalid_request_error", code = "media_type_unsupported", param = "Content-Type", message = "The body must be application/json." }
    RESOURCE_NOT_FOUND             = { status = 404, type = "invalid_request_error", code = "route_not_found", param = null, message = "No such route." }
    DEFAULT_4XX                    = { status = null, type = "invalid_request_error", code = "request_refused", param = null, message = "The request was refused." }
    AUTHORIZER_FAILURE             = { status = 500, type = "api_error", code = "authorizer_failed", param = null, message = "The credentials could not be checked: retry." }
    AUTHORIZER_CONFIGURATION_ERROR = { status = 500, type = "api_error", code = "authorizer_failed", param = null, message = "The credentials could not be checked: retry." }
    INTEGRATION_FAILURE            = { status = 504, type = "api_error", code = "integration_failed", param = null, message = "The service did not answer: retry with the same Idempotency-Key." }
    INTEGRATION_TIMEOUT            = { status = 504, type = "api_error", code = "integration_timeout", param = null, message = "The service did not answer in time: retry with the same Idempotency-Key." }
    API_CONFIGURATION_ERROR        = { status = 500, type = "api_error", code = "api_error", param = null, message = "Internal error." }
    DEFAULT_5XX                    = { status = null, type = "api_error", code = "api_error", param = null, message = "Internal error." }
  }
}

# Headers of a refusal, as static values (a gateway response cannot compute one): a throttled
# client waits a second, about what one token of a usage plan's bucket takes to come back at
# the rates merchant_usage_plans allows.
locals {
  gateway_response_headers = {
    THROTTLED = { "Retry-After" = "1" }
  }
}

resource "aws_api_gateway_gateway_response" "this" {
  for_each = local.gateway_responses

  rest_api_id   = aws_api_gateway_rest_api.this.id
  response_type = each.key
  # null keeps API Gateway's own status (DEFAULT_4XX and DEFAULT_5XX cover several).
  status_code = each.value.status == null ? null : tostring(each.value.status)
  response_parameters = {
    for name, value in lookup(local.gateway_response_headers, each.key, {}) : "gatewayresponse.header.${name}" => "'${value}'"
  }

  response_templates = {
    "application/json" = jsonencode({
      error = {
        type    = each.value.type
        code    = each.value.code
        message = each.value.message
        param   = each.value.param
      }
    })
  }
}
