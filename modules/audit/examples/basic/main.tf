# The audit module with a logs key from the kms module, recording data events for one
# cardholder-data DynamoDB table and one S3 bucket.

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

variable "force_destroy" {
  description = "Let `terraform destroy` empty the buckets (throwaway runs such as the local emulator). Object Lock COMPLIANCE objects still cannot be deleted before their retention ends on AWS."
  type        = bool
  default     = false
}

data "aws_caller_identity" "current" {}

resource "aws_iam_role" "key_admin" {
  name = "${var.name}-audit-key-admin"
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

  alias_prefix           = "alias/${var.name}-audit"
  key_administrator_arns = [aws_iam_role.key_admin.arn]
}

module "audit" {
  source = "../../"

  name          = var.name
  kms_key_arn   = module.kms.logs_key_arn
  force_destroy = var.force_destroy

  data_event_dynamodb_table_arns = ["arn:aws:dynamodb:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.name}-vault"]
  data_event_s3_bucket_arns      = ["arn:aws:s3:::${var.name}-lake-${data.aws_caller_identity.current.account_id}"]

  tags = {
    Example = "audit-basic"
  }
}

output "trail_arn" {
  description = "ARN of the trail."
  value       = module.audit.trail_arn
}

output "archive_bucket_name" {
  description = "Object Lock log archive bucket."
  value       = module.audit.archive_bucket_name
}

output "alarm_topic_arn" {
  description = "Encrypted security alarm topic."
  value       = module.audit.alarm_topic_arn
}

output "alarm_arns" {
  description = "Security alarms by event."
  value       = module.audit.alarm_arns
}
