# The security baseline with the logs key from the kms module: every service on, as an account
# without them gets it.

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
      DataClass   = "unclassified"
      Owner       = "security-engineering"
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
  description = "Let `terraform destroy` empty the Config bucket (throwaway runs such as the local emulator)."
  type        = bool
  default     = false
}

data "aws_caller_identity" "current" {}

resource "aws_iam_role" "key_admin" {
  name = "${var.name}-baseline-key-admin"
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

  alias_prefix           = "alias/${var.name}-baseline"
  key_administrator_arns = [aws_iam_role.key_admin.arn]
}

module "security_baseline" {
  source = "../.."

  name          = var.name
  kms_key_arn   = module.kms.logs_key_arn
  force_destroy = var.force_destroy
}

output "security_baseline" {
  description = "Every output of the module."
  value       = module.security_baseline
}
