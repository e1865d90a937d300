# The webhook endpoint routes (var.webhooks, modules/webhooks' API function) on the Payment API:
# the same REST API, stage, WAF, request validator and merchant authorizer as the payment
# routes; the function acts for the key's merchant only. Their invoke permissions are
# modules/webhooks', beside the function (output webhook_routes), as the credit routes' are.

locals {
  webhooks_enabled = var.webhooks != null

  webhook_paths = {
    create_webhook_endpoint = { method = "POST", path = "/v1/webhook_endpoints", parameters = {}, auth = "merchant" }
    list_webhook_endpoints  = { method = "GET", path = "/v1/webhook_endpoints", parameters = {}, auth = "merchant" }
    delete_webhook_endpoint = { method = "DELETE", path = "/v1/webhook_endpoints/{endpoint_id}", parameters = { "method.request.path.endpoint_id" = true }, auth = "merchant" }
    rotate_webhook_secret   = { method = "POST", path = "/v1/webhook_endpoints/{endpoint_id}/rotate_secret", parameters = { "method.request.path.endpoint_id" = true }, auth = "merchant" }
    list_webhook_deliveries = { method = "GET", path = "/v1/webhook_endpoints/{endpoint_id}/deliveries", parameters = { "method.request.path.endpoint_id" = true }, auth = "merchant" }
  }

  webhook_routes = {
    for key, route in local.webhook_paths : key => merge(route, {
      function   = var.webhooks.api_function_name
      invoke_arn = var.webhooks.api_invoke_arn
    }) if local.webhooks_enabled
  }

  webhook_resource_ids = local.webhooks_enabled ? {
    create_webhook_endpoint = aws_api_gateway_resource.webhook_endpoints[0].id
    list_webhook_endpoints  = aws_api_gateway_resource.webhook_endpoints[0].id
    delete_webhook_endpoint = aws_api_gateway_resource.webhook_endpoint[0].id
    rotate_webhook_secret   = aws_api_gateway_resource.webhook_endpoint_action["rotate_secret"].id
    list_webhook_deliveries = aws_api_gateway_resource.webhook_endpoint_action["deliveries"].id
  } : {}
}

resource "aws_api_gateway_resource" "webhook_endpoints" {
  count = local.webhooks_enabled ? 1 : 0

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.v1.id
  path_part   = "webhook_endpoints"
}

resource "aws_api_gateway_resource" "webhook_endpoint" {
  count = local.webhooks_enabled ? 1 : 0

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.webhook_endpoints[0].id
  path_part   = "{endpoint_id}"
}

resource "aws_api_gateway_resource" "webhook_endpoint_action" {
  for_each = local.webhooks_enabled ? toset(["rotate_secret", "deliveries"]) : toset([])

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.webhook_endpoint[0].id
  path_part   = each.key
}
