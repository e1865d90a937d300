# The backup module with its key from the kms module, backing up two named tables daily into a
# COMPLIANCE-locked vault.

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
      DataClass   = "cardholder-data"
      Owner       = "payments-platform"
    }
  }
}

variable "region" {
  description = "AWS region to deploy the example into."
  type        = string
  default     = "eu-west-1"
}

variable "key_administrator_arns" {
  description = "Roles that administer the backup key (they cannot use it)."
  type        = list(string)
}

variable "dynamodb_table_arns" {
  description = "The tables to back up."
  type        = list(string)
}

variable "alarm_sns_topic_arn" {
  description = "Topic told about failed backup jobs."
  type        = string
}

module "kms" {
  source = "../../../kms"

  alias_prefix           = "alias/backup-example"
  key_administrator_arns = var.key_administrator_arns
  backup_key             = true
}

module "backup" {
  source = "../../"

  name                = "backup-example"
  kms_key_arn         = module.kms.backup_key_arn
  dynamodb_table_arns = var.dynamodb_table_arns
  retention_days      = 35
  vault_lock          = { changeable_for_days = 3 }
  alarm_sns_topic_arn = var.alarm_sns_topic_arn
}

output "vault_arn" {
  description = "The locked backup vault."
  value       = module.backup.vault_arn
}
