# The network module with its defaults: two AZs, application and data tiers without any
# internet route, the VPC endpoints, and flow logs encrypted with the kms module's logs key.

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

data "aws_caller_identity" "current" {}

resource "aws_iam_role" "key_admin" {
  name = "${var.name}-network-key-admin"
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

  alias_prefix           = "alias/${var.name}-network"
  key_administrator_arns = [aws_iam_role.key_admin.arn]
}

module "network" {
  source = "../../"

  name        = var.name
  cidr_block  = "10.20.0.0/16"
  az_count    = 2
  kms_key_arn = module.kms.logs_key_arn

  tags = {
    Example = "network-basic"
  }
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = module.network.vpc_id
}

output "application_subnet_ids" {
  description = "Application-tier subnets."
  value       = module.network.application_subnet_ids
}

output "data_subnet_ids" {
  description = "Data-tier (CDE) subnets."
  value       = module.network.data_subnet_ids
}

output "lambda_security_group_id" {
  description = "Security group for Lambda functions."
  value       = module.network.lambda_security_group_id
}

output "interface_endpoint_ids" {
  description = "Interface endpoints by service."
  value       = module.network.interface_endpoint_ids
}
