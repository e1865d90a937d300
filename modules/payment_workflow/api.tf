# The public Payment API v1 (REST, regional). Merchants' routes are checked by the merchant
# authorizer (secret API keys, docs/decisions/0008); detokenize, which returns a card number,
# stays signed with IAM (SigV4) for the platform's own roles. Every method is validated; WAF,
# access logs without bodies, X-Ray and stage throttling guard the stage. On the emulator the
# local API serves exactly these routes (local/api_gateway.py reads them back).

locals {
  # Route key => method, resource, the function behind it (AWS_PROXY), the request parameters
  # API Gateway requires before it invokes anything, and who may call it (auth): "merchant"
  # (an API key, through the authorizer) or "iam" (the platform's own roles, SigV4).
  api_routes = merge(local.credit_routes, local.webhook_routes, {
    tokens = {
      method     = "POST"
      path       = "/v1/tokens"
      function   = var.tokenize_function_name
      invoke_arn = var.tokenize_invoke_arn
      parameters = {}
      auth       = "merchant"
    }
    detokenize = {
      method     = "POST"
      path       = "/v1/tokens/{token}/detokenize"
      function   = var.detokenize_function_name
      invoke_arn = var.detokenize_invoke_arn
      parameters = { "method.request.path.token" = true }
      auth       = "iam"
    }
    create_payment = {
      method     = "POST"
      path       = "/v1/payments"
      function   = module.payments_api.function_name
      invoke_arn = module.payments_api.invoke_arn
      parameters = { "method.request.header.Idempotency-Key" = true }
      auth       = "merchant"
    }
    list_payments = {
      method     = "GET"
      path       = "/v1/payments"
      function   = module.payments_api.function_name
      invoke_arn = module.payments_api.invoke_arn
      parameters = {}
      auth       = "merchant"
    }
    get_payment = {
      method     = "GET"
      path       = "/v1/payments/{payment_id}"
      function   = module.payments_api.function_name
      invoke_arn = module.payments_api.invoke_arn
      parameters = { "method.request.path.payment_id" = true }
      auth       = "merchant"
    }
    capture_payment = {
      method     = "POST"
      path       = "/v1/payments/{payment_id}/capture"
      function   = module.payments_api.function_name
      invoke_arn = module.payments_api.invoke_arn
      parameters = { "method.request.path.payment_id" = true }
      auth       = "merchant"
    }
    refund_payment = {
      method     = "POST"
      path       = "/v1/payments/{payment_id}/refunds"
      function   = module.payments_api.function_name
      invoke_arn = module.payments_api.invoke_arn
      parameters = { "method.request.path.payment_id" = true, "method.request.header.Idempotency-Key" = true }
      auth       = "merchant"
    }
    resume_payment = {
      method     = "POST"
      path       = "/v1/payments/{payment_id}/resume"
      function   = module.payments_api.function_name
      invoke_arn = module.payments_api.invoke_arn
      parameters = { "method.request.path.payment_id" = true }
      auth       = "merchant"
    }
    cancel_payment = {
      method     = "POST"
      path       = "/v1/payments/{payment_id}/cancel"
      function   = module.payments_api.function_name
      invoke_arn = module.payments_api.invoke_arn
      parameters = { "method.request.path.payment_id" = true }
      auth       = "merchant"
    }
    # This API's OpenAPI document (docs/openapi.json), for merchants' tools: behind the key
    # as every merchant route, so no request reaches a function unauthenticated.
    openapi = {
      method     = "GET"
      path       = "/v1/openapi.json"
      function   = module.payments_api.function_name
      invoke_arn = module.payments_api.invoke_arn
      parameters = {}
      auth       = "merchant"
    }
  })
}

resource "aws_api_gateway_rest_api" "this" {
  name        = "${var.name_prefix}-api"
  description = "Payment API v1"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  # With a custom domain (api_domain.tf: TLS_1_2) the default endpoint, whose TLS policy cannot
  # be chosen (TLS 1.0 and up), is closed: the domain is the only way in.
  disable_execute_api_endpoint = local.custom_domain
  # Merchants' usage-plan keys come from the authorizer (usageIdentifierKey), never from a
  # client's header: a client cannot pick another merchant's plan.
  api_key_source = "AUTHORIZER"

  tags = var.tags
}

resource "aws_api_gateway_resource" "v1" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "v1"
}

resource "aws_api_gateway_resource" "tokens" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.v1.id
  path_part   = "tokens"
}

resource "aws_api_gateway_resource" "token" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.tokens.id
  path_part   = "{token}"
}

resource "aws_api_gateway_resource" "detokenize" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.token.id
  path_part   = "detokenize"
}

resource "aws_api_gateway_resource" "payments" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.v1.id
  path_part   = "payments"
}

resource "aws_api_gateway_resource" "payment" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.payments.id
  path_part   = "{payment_id}"
}

resource "aws_api_gateway_resource" "payment_action" {
  for_each = toset(["capture", "refunds", "resume", "cancel"])

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.payment.id
  path_part   = each.key
}

locals {
  api_resource_ids = merge(local.credit_resource_ids, local.webhook_resource_ids, {
    tokens          = aws_api_gateway_resource.tokens.id
    detokenize      = aws_api_gateway_resource.detokenize.id
    create_payment  = aws_api_gateway_resource.payments.id
    list_payments   = aws_api_gateway_resource.payments.id
    get_payment     = aws_api_gateway_resource.payment.id
    capture_payment = aws_api_gateway_resource.payment_action["capture"].id
    refund_payment  = aws_api_gateway_resource.payment_action["refunds"].id
    resume_payment  = aws_api_gateway_resource.payment_action["resume"].id
    cancel_payment  = aws_api_gateway_resource.payment_action["cancel"].id
    openapi         = aws_api_gateway_resource.openapi.id
  })
}

resource "aws_api_gateway_request_validator" "body" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  name        = "body-and-parameters"
  # The bodies too only when chosen (var.request_body_validation, ADR 0011): the gateway's
  # refusal cannot name the field, the functions' does.
  validate_request_body = var.request_body_validation == "gateway"
  # The required parameters always (a POST /v1/payments without Idempotency-Key never runs).
  validate_request_parameters = true
}

# Secret API keys to merchants (modules/merchant_registry's function). The identity source is the
# Authorization header: API Gateway answers 401 without invoking anything when it is missing,
# and caches the answer per header value for result_ttl_seconds.
resource "aws_api_gateway_authorizer" "merchant" {
  name                             = "merchant-api-key"
  rest_api_id                      = aws_api_gateway_rest_api.this.id
  type                             = "REQUEST"
  authorizer_uri                   = var.merchant_authorizer.invoke_arn
  identity_source                  = "method.request.header.Authorization"
  authorizer_result_ttl_in_seconds = var.merchant_authorizer.result_ttl_seconds
}

resource "aws_api_gateway_method" "this" {
  for_each = local.api_routes

  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = local.api_resource_ids[each.key]
  http_method          = each.value.method
  authorization        = each.value.auth == "iam" ? "AWS_IAM" : "CUSTOM"
  authorizer_id        = each.value.auth == "iam" ? null : aws_api_gateway_authorizer.merchant.id
  request_validator_id = aws_api_gateway_request_validator.body.id
  request_parameters   = each.value.parameters
  # Every merchant route counts against the merchant's usage plan (api_throttling.tf).
  api_key_required = each.value.auth == "merchant"
  # The body's model (api_models.tf), whatever the Content-Type: a body sent as text/plain is
  # checked as well.
  request_models = contains(keys(local.route_models), each.key) ? { "$default" = aws_api_gateway_model.this[local.route_models[each.key]].name } : null
}

resource "aws_api_gateway_integration" "this" {
  for_each = local.api_routes

  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = local.api_resource_ids[each.key]
  http_method             = aws_api_gateway_method.this[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = each.value.invoke_arn
}

# One permission per route: API Gateway may invoke the function for that method and path only
# (path parameters become "*"). The credit and webhook routes' permissions are their modules',
# beside their functions (var.credit and var.webhooks name them; this module does not wait for
# them to exist).
resource "aws_lambda_permission" "api" {
  for_each = { for k, r in local.api_routes : k => r if !contains(concat(keys(local.credit_routes), keys(local.webhook_routes)), k) }

  statement_id  = "AllowPaymentApi-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = each.value.function
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*/${each.value.method}${replace(each.value.path, "/\\{[a-z_]+\\}/", "*")}"
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  # Redeploy when a route, its function or its parameters change: the configuration and the
  # ids, not whole resource objects (their computed attributes would redeploy on every drift).
  triggers = {
    routes = sha1(jsonencode([
      local.api_routes,
      local.api_resource_ids,
      aws_api_gateway_request_validator.body.id,
      # The models' files, not their schema as read back: a service that stores the JSON
      # reformatted would otherwise redeploy the stage on every plan.
      { for k in keys(aws_api_gateway_model.this) : k => filesha1("${path.module}/models/${k}.json") },
      aws_api_gateway_authorizer.merchant.id,
      var.merchant_authorizer,
      local.gateway_responses,
      { for k, m in aws_api_gateway_method.this : k => m.id },
      { for k, m in aws_api_gateway_method.this : k => m.api_key_required },
      { for k, i in aws_api_gateway_integration.this : k => i.id },
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.name_prefix}-api/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_api_gateway_stage" "v1" {
  #checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to HTTP backends; these integrations are Lambda proxies invoked through IAM.
  #checkov:skip=CKV_AWS_120:Payment responses are per caller and must never be served from a cache.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = "v1"
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    # Request metadata only: bodies (which may carry card numbers) are never logged.
    format = jsonencode({
      requestId      = "$context.requestId"
      ip             = "$context.identity.sourceIp"
      caller         = "$context.identity.userArn"
      merchant       = "$context.authorizer.merchant_id"
      keyPrefix      = "$context.authorizer.key_prefix"
      requestTime    = "$context.requestTime"
      httpMethod     = "$context.httpMethod"
      resourcePath   = "$context.resourcePath"
      status         = "$context.status"
      responseLength = "$context.responseLength"
      latencyMs      = "$context.responseLatency"
      wafStatus      = "$context.waf.status"
    })
  }

  tags = var.tags
}

resource "aws_api_gateway_method_settings" "all" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.v1.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled = true
    # ERROR, not INFO: execution logging at INFO writes request bodies.
    logging_level          = "ERROR"
    data_trace_enabled     = false
    throttling_rate_limit  = var.api_rate_limit_per_second
    throttling_burst_limit = var.api_rate_limit_per_second * 2
  }
}

resource "aws_wafv2_web_acl" "api" {
  name  = "${var.name_prefix}-api"
  scope = "REGIONAL"

  default_action {
    allow {}
  }

  dynamic "rule" {
    for_each = {
      AWSManagedRulesCommonRuleSet          = 10
      AWSManagedRulesKnownBadInputsRuleSet  = 20
      AWSManagedRulesAmazonIpReputationList = 30
    }

    content {
      name     = rule.key
      priority = rule.value

      override_action {
        none {}
      }

      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = rule.key
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = rule.key
        sampled_requests_enabled   = true
      }
    }
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 1

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.waf_rate_limit_per_5_minutes
        aggregate_key_type = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "rate-limit-per-ip"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name_prefix}-api"
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_association" "api" {
  resource_arn = aws_api_gateway_stage.v1.arn
  web_acl_arn  = aws_wafv2_web_acl.api.arn
}

# What the WAF blocked or counted, and why (PCI DSS 10.2.1, 1.4.2): the requests it let through
# are in the stage's access log already, so only the others are kept. WAF requires the
# aws-waf-logs- prefix. No resource policy here: WAF adds the log delivery's own policy when the
# applying role may (logs:PutResourcePolicy), which keeps each environment off the account's
# limit of ten per region.
resource "aws_cloudwatch_log_group" "waf" {
  name              = "aws-waf-logs-${var.name_prefix}-api"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_wafv2_web_acl_logging_configuration" "api" {
  resource_arn            = aws_wafv2_web_acl.api.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]

  # The merchant's secret API key travels in this header; a WAF log is readable by operators.
  redacted_fields {
    single_header {
      name = "authorization"
    }
  }

  logging_filter {
    default_behavior = "DROP"

    filter {
      behavior    = "KEEP"
      requirement = "MEETS_ANY"

      condition {
        action_condition {
          action = "BLOCK"
        }
      }

      condition {
        action_condition {
          action = "COUNT"
        }
      }
    }
  }
}
