# The data lake on its own: a stream of its own and the kms module's keys (its logs key admits
# CloudWatch Logs, which Firehose's error log group needs). In the platform the stream is
# modules/fraud_stream's (stream_arn, encrypted with the application key).

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

variable "filename" {
  description = "Path to the functions zip built by make build (functions-aws.zip on AWS, functions-local.zip on the emulator)."
  type        = string
}

variable "name" {
  description = "Name prefix of the example's resources."
  type        = string
  default     = "lake-example"
}

data "aws_caller_identity" "current" {}

resource "aws_iam_role" "key_admin" {
  name = "${var.name}-key-admin"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "sts:AssumeRole"
    }]
  })
}

module "kms" {
  source = "../../../kms"

  alias_prefix           = "alias/${var.name}"
  key_administrator_arns = [aws_iam_role.key_admin.arn]
}

resource "aws_kinesis_stream" "payments" {
  name            = "${var.name}-payment-stream"
  encryption_type = "KMS"
  kms_key_id      = module.kms.application_key_arn

  stream_mode_details {
    stream_mode = "ON_DEMAND"
  }
}

module "data_lake" {
  source = "../../"

  name_prefix               = var.name
  source_stream_arn         = aws_kinesis_stream.payments.arn
  source_stream_kms_key_arn = module.kms.application_key_arn
  kms_key_arn               = module.kms.data_lake_key_arn
  logs_kms_key_arn          = module.kms.logs_key_arn
  force_destroy             = true
  deletion_protection       = false
  transform = {
    lambda_package = var.filename
  }
}

output "example" {
  description = "Every output of the data lake."
  value       = module.data_lake
}
