data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  functions = {
    validate_payment = {
      handler     = "functions.handlers.validate_payment.handler"
      memory_size = 256
      timeout     = 5
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: payments application data (tables, logs, workflow)"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  multi_region            = false
  policy                  = local.key_policy
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-app"
  target_key_id = aws_kms_key.this.key_id
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
    kms_key_arn = aws_kms_key.this.arn
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = merge(var.tags, { DataClass = "payment-metadata" })
}
