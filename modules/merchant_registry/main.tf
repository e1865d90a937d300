# The merchant registry (docs/decisions/0008): merchants, their secret API keys (hashes only),
# settings and limits in one on-demand table under the application key, with point-in-time
# recovery and deletion protection; and the Payment API's merchant authorizer
# (functions/handlers/merchant_authorizer.py) through lambda_function, allowed to read one key
# item at a time and nothing else.
#
# Onboarding writes the table (make merchant, python -m local.cli merchant): no apply.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  region        = data.aws_region.current.id
  account_id    = data.aws_caller_identity.current.account_id
  table_name    = "${var.name_prefix}-merchants"
  function_name = "${var.name_prefix}-merchant-authorizer"
  # The sparse index of a merchant's keys (only key items carry key_owner): the operator's
  # rotation lists them; the authorizer never queries it.
  keys_index = "keys_by_merchant"

  # Hashes of merchants' credentials and their settings: no card data.
  tags = merge(var.tags, { DataClass = "merchant-credentials" })
}

# Least privilege: one key item at a time (GetItem: no Query, no Scan, nothing written), and the
# table key through DynamoDB only, for this table of this account.
locals {
  authorizer_statements = [
    {
      sid       = "ReadOneKey"
      actions   = ["dynamodb:GetItem"]
      resources = [aws_dynamodb_table.this.arn]
    },
    {
      sid       = "TableKeyViaDynamoDb"
      actions   = ["kms:Decrypt"]
      resources = [var.data_kms_key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.${local.region}.amazonaws.com"] },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:tableName", values = [local.table_name] },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:subscriberId", values = [local.account_id] },
      ]
    },
  ]

  authorizer_environment = {
    PAYMENTS_ENVIRONMENT         = var.environment
    MERCHANT_REGISTRY_TABLE_NAME = local.table_name
  }
}

resource "aws_dynamodb_table" "this" {
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "key_owner"
    type = "S"
  }

  global_secondary_index {
    name            = local.keys_index
    hash_key        = "key_owner"
    projection_type = "ALL"
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

# Where onboarding finds the usage plan of a merchant's tier (functions/adapters/usage_plans.py):
# Terraform owns the plans, the registry only reads their ids.
resource "aws_dynamodb_table_item" "usage_plans" {
  count = length(var.usage_plans) > 0 ? 1 : 0

  table_name = aws_dynamodb_table.this.name
  hash_key   = aws_dynamodb_table.this.hash_key
  item = jsonencode({
    pk    = { S = "config#usage_plans" }
    plans = { M = { for tier, id in var.usage_plans : tier => { S = id } } }
  })
}

module "authorizer" {
  source = "../lambda_function"

  name                           = local.function_name
  description                    = "Payment API merchant authorizer: a secret API key to its merchant."
  filename                       = var.lambda_package
  handler                        = "functions.handlers.merchant_authorizer.handler"
  runtime                        = var.lambda_runtime
  memory_size                    = var.authorizer.memory_size
  timeout                        = var.authorizer.timeout
  reserved_concurrent_executions = var.authorizer.reserved_concurrency
  kms_key_arn                    = var.data_kms_key_arn
  log_kms_key_arn                = var.logs_kms_key_arn
  log_retention_in_days          = var.log_retention_days
  vpc_config                     = var.vpc_config
  alarm_sns_topic_arn            = var.alarm_sns_topic_arn
  # API Gateway calls it synchronously: an on-failure queue would never receive anything.
  failure_queue_enabled = false

  policy_statements = local.authorizer_statements

  powertools = {
    service_name = "merchant-authorizer"
    log_level    = var.log_level
  }
  environment_variables = local.authorizer_environment

  tags = local.tags
}

# API Gateway may invoke the authorizer for this API's authorizers only.
resource "aws_lambda_permission" "api" {
  count = var.api_gateway == null ? 0 : 1

  statement_id  = "AllowPaymentApiAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = module.authorizer.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${var.api_gateway.execution_arn}/authorizers/*"
}
