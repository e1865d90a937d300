# The credit routes (var.credit) on the Payment API: the same REST API, stage, WAF, request
# validator and merchant authorizer as the payment routes (the review: IAM, the lender's own
# reviewers); the credit API function answers them and, as the payments function does, lets a
# merchant act for itself only.

locals {
  credit_enabled = var.credit != null

  credit_paths = {
    create_credit_decision = { method = "POST", path = "/v1/credit/decisions", parameters = { "method.request.header.Idempotency-Key" = true }, auth = "merchant" }
    get_credit_decision    = { method = "GET", path = "/v1/credit/decisions/{decision_id}", parameters = { "method.request.path.decision_id" = true }, auth = "merchant" }
    # The lender's credit reviewers, never a merchant: signed with IAM.
    review_credit_decision = { method = "POST", path = "/v1/credit/decisions/{decision_id}/reviews", parameters = { "method.request.path.decision_id" = true }, auth = "iam" }
    get_bnpl_plan          = { method = "GET", path = "/v1/bnpl/plans/{plan_id}", parameters = { "method.request.path.plan_id" = true }, auth = "merchant" }
    settle_bnpl_plan       = { method = "POST", path = "/v1/bnpl/plans/{plan_id}/settle", parameters = { "method.request.path.plan_id" = true }, auth = "merchant" }
  }

  credit_routes = {
    for key, route in local.credit_paths : key => merge(route, {
      function   = var.credit.api_function_name
      invoke_arn = var.credit.api_invoke_arn
    }) if local.credit_enabled
  }

  # /v1/credit/decisions/{decision_id}/reviews and /v1/bnpl/plans/{plan_id}/settle: one
  # resource per level, each for both trees.
  credit_trees = local.credit_enabled ? {
    credit = { collection = "decisions", item = "{decision_id}", action = "reviews" }
    bnpl   = { collection = "plans", item = "{plan_id}", action = "settle" }
  } : {}

  credit_resource_ids = local.credit_enabled ? {
    create_credit_decision = aws_api_gateway_resource.credit_collection["credit"].id
    get_credit_decision    = aws_api_gateway_resource.credit_item["credit"].id
    review_credit_decision = aws_api_gateway_resource.credit_action["credit"].id
    get_bnpl_plan          = aws_api_gateway_resource.credit_item["bnpl"].id
    settle_bnpl_plan       = aws_api_gateway_resource.credit_action["bnpl"].id
  } : {}
}

resource "aws_api_gateway_resource" "credit_root" {
  for_each = local.credit_trees

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.v1.id
  path_part   = each.key
}

resource "aws_api_gateway_resource" "credit_collection" {
  for_each = local.credit_trees

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.credit_root[each.key].id
  path_part   = each.value.collection
}

resource "aws_api_gateway_resource" "credit_item" {
  for_each = local.credit_trees

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.credit_collection[each.key].id
  path_part   = each.value.item
}

resource "aws_api_gateway_resource" "credit_action" {
  for_each = local.credit_trees

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.credit_item[each.key].id
  path_part   = each.value.action
}
