# The tokenization vault wired the way the platform composition wires it: keys from the kms
# module, private subnets and endpoints from the network module, CloudTrail data events on the
# vault table from the audit module, alarms to an encrypted topic.
#
# The zip is built outside Terraform (`make build`):
#   AWS:      terraform apply -var filename=$PWD/build/lambda/functions-aws.zip
#   emulator: terraform apply -var filename=$PWD/build/lambda/functions-local.zip \
#               -var runtime=python3.11 -var deletion_protection=false

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

  default_tags {
    tags = {
      Environment = "example"
      PCIScope    = "cde"
      DataClass   = "payment-metadata"
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
  default     = "vault-example"
}

variable "filename" {
  description = "Path to the functions zip built by `make build` (functions-aws.zip on AWS, functions-local.zip on the emulator)."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime the zip was built for (python3.11 on the local emulator)."
  type        = string
  default     = "python3.12"
}

variable "deletion_protection" {
  description = "Deletion protection of the vault table (false only for throwaway runs)."
  type        = bool
  default     = true
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

resource "aws_iam_role" "key_admin" {
  name = "${var.name}-key-admin"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "sts:AssumeRole"
    }]
  })
}

module "kms" {
  source = "../../../kms"

  alias_prefix           = "alias/${var.name}"
  key_administrator_arns = [aws_iam_role.key_admin.arn]
}

module "network" {
  source = "../../../network"

  name        = var.name
  kms_key_arn = module.kms.logs_key_arn
}

module "audit" {
  source = "../../../audit"

  name                           = var.name
  kms_key_arn                    = module.kms.logs_key_arn
  data_event_dynamodb_table_arns = [module.vault.table_arn]
  force_destroy                  = !var.deletion_protection
}

# Its own alarm topic, not module.audit's: vault -> audit (table ARN) and audit -> vault (topic)
# would make the two module calls reference each other, which Terraform resolves but checkov's
# variable rendering does not (every input of module.vault would stay unrendered in the scan).
resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-vault-alarms"
  kms_master_key_id = module.kms.logs_key_arn
}

module "vault" {
  source = "../../"

  name                = var.name
  filename            = var.filename
  runtime             = var.runtime
  vault_key_arn       = module.kms.vault_key_arn
  fingerprint_key_arn = module.kms.fingerprint_key_arn
  env_kms_key_arn     = module.kms.application_key_arn
  logs_kms_key_arn    = module.kms.logs_key_arn

  vpc_config = {
    subnet_ids         = module.network.application_subnet_ids
    security_group_ids = [module.network.lambda_security_group_id]
  }

  detokenize_allowed_principals = [
    "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/${var.name}-chargebacks",
  ]

  deletion_protection = var.deletion_protection
  alarm_sns_topic_arn = aws_sns_topic.alarms.arn

  tags = {
    Example = "tokenization-vault-basic"
  }
}

output "functions" {
  description = "Function names, ARNs, invoke ARNs and roles per function."
  value       = module.vault.functions
}

output "table_name" {
  description = "The vault table."
  value       = module.vault.table_name
}

output "audit_log_group_name" {
  description = "The detokenization audit log group."
  value       = module.vault.audit_log_group_name
}

output "audit_event_bus_name" {
  description = "The audit event bus."
  value       = module.vault.audit_event_bus_name
}
