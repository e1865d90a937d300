# Minimal use of the kms module: one administrator role and one role per key use.
# Real deployments pass the roles of their own administrators and workloads.

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
  description = "Name prefix for the example's roles and key aliases."
  type        = string
  default     = "payments-example"
}

data "aws_caller_identity" "current" {}

locals {
  roles = toset(["key-admin", "tokenizer", "detokenizer", "ledger", "log-reader"])
}

resource "aws_iam_role" "this" {
  for_each = local.roles

  name = "${var.name}-${each.key}"
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
  source = "../../"

  alias_prefix           = "alias/${var.name}"
  key_administrator_arns = [aws_iam_role.this["key-admin"].arn]
  key_users = {
    vault_encrypt = [aws_iam_role.this["tokenizer"].arn]
    vault_decrypt = [aws_iam_role.this["detokenizer"].arn]
    fingerprint   = [aws_iam_role.this["tokenizer"].arn]
    application   = [aws_iam_role.this["ledger"].arn]
    logs_decrypt  = [aws_iam_role.this["log-reader"].arn]
  }

  tags = {
    Example = "kms-basic"
  }
}

output "keys" {
  description = "Every key by purpose."
  value       = module.kms.keys
}

output "fingerprint_key_alias" {
  description = "Alias of the HMAC fingerprint key."
  value       = module.kms.fingerprint_key_alias
}
