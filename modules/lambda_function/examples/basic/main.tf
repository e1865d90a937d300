# One Lambda function built with the module, wired the way the platform composition wires every
# function: keys from the kms module, private subnets and the Lambda security group from the
# network module, alarms to an encrypted SNS topic.
#
# The zip is built outside Terraform (`make build`) and passed in:
#   terraform apply -var filename=/path/to/function.zip

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

provider "aws" {
  region = var.region

  # The inventory tags PCI DSS 12.5.1 asks for, on every resource of the example.
  default_tags {
    tags = {
      Environment = "example"
      PCIScope    = "cde"
      DataClass   = "internal"
      Owner       = "payments-platform"
    }
  }
}

variable "region" {
  description = "AWS region to deploy the example into."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name prefix for the example."
  type        = string
  default     = "payments-example"
}

variable "filename" {
  description = "Path to the function zip, built outside Terraform. Its handler must be functions.handlers.health.handler or set var.handler."
  type        = string
}

variable "handler" {
  description = "Handler inside the zip."
  type        = string
  default     = "functions.handlers.health.handler"
}

data "aws_caller_identity" "current" {}

resource "aws_iam_role" "key_admin" {
  name = "${var.name}-lambda-key-admin"
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

  alias_prefix           = "alias/${var.name}-lambda"
  key_administrator_arns = [aws_iam_role.key_admin.arn]
}

module "network" {
  source = "../../../network"

  name        = "${var.name}-lambda"
  kms_key_arn = module.kms.logs_key_arn
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-lambda-alarms"
  kms_master_key_id = module.kms.logs_key_arn
}

module "function" {
  source = "../../"

  name        = "${var.name}-health"
  description = "Example function built with the lambda_function module."
  filename    = var.filename
  handler     = var.handler

  kms_key_arn     = module.kms.application_key_arn
  log_kms_key_arn = module.kms.logs_key_arn

  vpc_config = {
    subnet_ids         = module.network.application_subnet_ids
    security_group_ids = [module.network.lambda_security_group_id]
  }

  environment_variables = {
    STAGE = "example"
  }
  powertools = {
    service_name = "health"
  }

  policy_statements = [
    {
      sid       = "ReadOwnAlarmTopicAttributes"
      actions   = ["sns:GetTopicAttributes"]
      resources = [aws_sns_topic.alarms.arn]
    },
  ]

  alarm_sns_topic_arn = aws_sns_topic.alarms.arn

  tags = {
    Example = "lambda-function-basic"
  }
}

output "function_name" {
  description = "Name of the function."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = module.function.function_arn
}

output "role_arn" {
  description = "Execution role ARN."
  value       = module.function.role_arn
}

output "log_group_name" {
  description = "Encrypted log group of the function."
  value       = module.function.log_group_name
}

output "failure_queue_arn" {
  description = "On-failure queue for asynchronous invocations."
  value       = module.function.failure_queue_arn
}
