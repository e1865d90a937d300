# BNPL credit decisions (docs/models/credit.md): two tables, on demand, encrypted with the
# application key, with point-in-time recovery and deletion protection, and the credit API
# (functions/handlers/credit_api.py) through lambda_function.
#
# decisions: one item per decision (id), the record whole: the request, the exposure read, the
#            limits applied, model version, score, points, reasons and the reviews after it.
#            The audit trail of the creditworthiness assessment (CCD 2023/2225 Art. 18): never
#            expired by TTL.
# plans:     one item per plan (id); indexes by customer and merchant (the exposure figures a
#            decision reads) and a sparse index of active plans by next due date (collections).
#
# Neither holds card data: a plan carries the vault token only.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  region          = data.aws_region.current.id
  account_id      = data.aws_caller_identity.current.account_id
  decisions_table = "${var.name_prefix}-credit-decisions"
  plans_table     = "${var.name_prefix}-bnpl-plans"
  function_name   = "${var.name_prefix}-credit-api"

  # Applicants' declared finances and dates of birth: personal data, not cardholder data.
  tags = merge(var.tags, { DataClass = "personal-data" })

  api_environment = {
    PAYMENTS_ENVIRONMENT        = var.environment
    CREDIT_DECISIONS_TABLE_NAME = local.decisions_table
    BNPL_PLANS_TABLE_NAME       = local.plans_table
    CREDIT_POLICY               = jsonencode(var.credit_policy)
    EUR_RATES                   = jsonencode(merge({ EUR = "1" }, var.eur_rates))
    CREDIT_REVIEWER_PRINCIPALS  = jsonencode(var.reviewer_principals)
  }

  plan_indexes = {
    customer = { hash_key = "customer_id", range_key = null }
    merchant = { hash_key = "merchant_id", range_key = null }
    due      = { hash_key = "collectable", range_key = "next_due" }
  }
}

resource "aws_dynamodb_table" "decisions" {
  name                        = local.decisions_table
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.data_kms_key_arn
  }

  tags = local.tags
}

resource "aws_dynamodb_table" "plans" {
  name                        = local.plans_table
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    for_each = toset(["id", "customer_id", "merchant_id", "collectable", "next_due"])
    content {
      name = attribute.value
      type = "S"
    }
  }

  dynamic "global_secondary_index" {
    for_each = local.plan_indexes
    content {
      name            = global_secondary_index.key
      hash_key        = global_secondary_index.value.hash_key
      range_key       = global_secondary_index.value.range_key
      projection_type = "ALL"
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.data_kms_key_arn
  }

  tags = local.tags
}

module "api" {
  source = "../lambda_function"

  name                           = local.function_name
  description                    = "Credit API: BNPL credit decisions with reasons, and plans read back."
  filename                       = var.lambda_package
  handler                        = "functions.handlers.credit_api.handler"
  runtime                        = var.lambda_runtime
  memory_size                    = var.api.memory_size
  timeout                        = var.api.timeout
  reserved_concurrent_executions = var.api.reserved_concurrency
  kms_key_arn                    = var.data_kms_key_arn
  log_kms_key_arn                = var.logs_kms_key_arn
  log_retention_in_days          = var.log_retention_days
  vpc_config                     = var.vpc_config
  alarm_sns_topic_arn            = var.alarm_sns_topic_arn
  # With BNPL the API also settles plans early (POST /v1/bnpl/plans/{id}/settle): a charge, the
  # plan, the ledger and an event, as the bnpl function's collections do.
  policy_statements = concat(local.api_statements, local.bnpl_statements)

  powertools = {
    service_name = "credit-api"
    log_level    = var.log_level
  }
  environment_variables = local.bnpl_environment

  tags = local.tags
}

# One permission per credit route of the Payment API (path parameters become "*"), as the
# payment routes' in modules/payment_workflow.
resource "aws_lambda_permission" "api" {
  for_each = try(var.api_gateway.routes, {})

  statement_id  = "AllowPaymentApi-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = module.api.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${var.api_gateway.execution_arn}/*/${each.value.method}${replace(each.value.path, "/\\{[a-z_]+\\}/", "*")}"
}
