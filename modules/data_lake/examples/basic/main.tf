# The data lake on its own: a stream and keys of its own. In the platform the stream is
# modules/fraud_stream's (stream_arn) and the keys are the kms module's.

terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

variable "kms_key_arn" {
  description = "Customer-managed key for the stream, the buckets and the query results."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "Customer-managed key for Firehose's log group."
  type        = string
}

resource "aws_kinesis_stream" "payments" {
  name            = "lake-example-payment-stream"
  encryption_type = "KMS"
  kms_key_id      = var.kms_key_arn

  stream_mode_details {
    stream_mode = "ON_DEMAND"
  }
}

module "data_lake" {
  source = "../../"

  name_prefix               = "lake-example"
  source_stream_arn         = aws_kinesis_stream.payments.arn
  source_stream_kms_key_arn = var.kms_key_arn
  kms_key_arn               = var.kms_key_arn
  logs_kms_key_arn          = var.logs_kms_key_arn
  force_destroy             = true
}

output "lake_bucket" {
  value = module.data_lake.lake_bucket
}

output "named_queries" {
  value = module.data_lake.named_queries
}
