# The fraud stream on its own: a bus of its own, keys passed in. The zip is built by
# `make build` (functions-aws.zip on AWS, functions-local.zip on the emulator).

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
  description = "Path to the functions zip built by make build."
  type        = string
}

variable "data_kms_key_arn" {
  description = "Customer-managed key for the stream, the tables, the consumer's environment and failure queue (its policy must admit EventBridge for the bus)."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "Customer-managed key for the consumer's log group."
  type        = string
}

resource "aws_cloudwatch_event_bus" "payments" {
  name               = "fs-example-payments"
  kms_key_identifier = var.data_kms_key_arn
}

module "fraud_stream" {
  source = "../../"

  name_prefix      = "fs-example"
  environment      = "dev"
  lambda_package   = var.filename
  data_kms_key_arn = var.data_kms_key_arn
  logs_kms_key_arn = var.logs_kms_key_arn
  event_bus = {
    name = aws_cloudwatch_event_bus.payments.name
    arn  = aws_cloudwatch_event_bus.payments.arn
  }
  # The stream holds card keys and IPs, no card number; a real deployment passes private subnets.
  vpc_config          = null
  deletion_protection = false
}

output "example" {
  description = "The stream, tables and consumer of the example."
  value = {
    stream_arn       = module.fraud_stream.stream_arn
    feature_table    = module.fraud_stream.feature_table_name
    block_list_table = module.fraud_stream.block_list_table_name
    consumer         = module.fraud_stream.consumer
  }
}
