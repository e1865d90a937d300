# The composition every environment calls: the secure foundation (keys, private network, audit)
# and the payment components on top of it. Environments pass only what differs between them.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # Functions that read card data run in the data tier: the cardholder data environment.
  cde_vpc_config = {
    subnet_ids         = module.network.data_subnet_ids
    security_group_ids = [module.network.lambda_security_group_id]
  }
  cde_tags = merge(var.tags, { DataClass = "cardholder-data", PCIScope = "cde" })
}

module "kms" {
  source = "../kms"

  alias_prefix            = "alias/${var.name_prefix}"
  key_administrator_arns  = var.key_administrator_arns
  cryptoperiod_days       = var.cryptoperiod_days
  deletion_window_in_days = 30
  tags                    = var.tags
}

module "network" {
  source = "../network"

  name        = var.name_prefix
  kms_key_arn = module.kms.logs_key_arn
  cidr_block  = var.vpc_cidr_block
  az_count    = var.az_count
  tags        = var.tags
}

module "audit" {
  source = "../audit"

  name                             = var.name_prefix
  kms_key_arn                      = module.kms.logs_key_arn
  data_event_dynamodb_table_arns   = [aws_dynamodb_table.payments.arn, module.vault.table_arn]
  cloudwatch_log_retention_in_days = var.log_retention_days
  force_destroy                    = var.audit_force_destroy
  tags                             = var.tags
}

resource "aws_dynamodb_table" "payments" {
  name                        = "${var.name_prefix}-payments"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "payment_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "payment_id"
    type = "S"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = module.kms.application_key_arn
  }

  point_in_time_recovery {
    enabled = true
  }

  # Holds tokens, brands and last four digits only: out of cardholder-data scope.
  tags = merge(var.tags, { DataClass = "payment-metadata" })
}

module "validate_payment" {
  source = "../lambda_function"

  name                  = "${var.name_prefix}-validate-payment"
  description           = "Validates a payment request and its card (Luhn, brand, length, expiry)."
  filename              = var.lambda_package
  handler               = "functions.handlers.validate_payment.handler"
  runtime               = var.lambda_runtime
  memory_size           = 256
  timeout               = 5
  kms_key_arn           = module.kms.application_key_arn
  log_kms_key_arn       = module.kms.logs_key_arn
  log_retention_in_days = var.log_retention_days
  vpc_config            = local.cde_vpc_config
  alarm_sns_topic_arn   = module.audit.alarm_topic_arn

  powertools = {
    service_name = "validate-payment"
    log_level    = var.log_level
  }
  environment_variables = {
    PAYMENTS_ENVIRONMENT = var.environment
  }

  tags = local.cde_tags
}
