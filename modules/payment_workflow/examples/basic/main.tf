# The payment workflow wired the way the platform composition wires it: keys from the kms
# module, the CDE subnets from the network module, the tokenization vault for the tokenize
# step and the token routes, CloudTrail data events on the four tables from the audit module,
# alarms to an encrypted topic. README.md beside this file says how to run it.
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

  # The inventory tags PCI DSS 12.5.1 asks for, on every resource of the example.
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
  default     = "pw-example"
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
  description = "Deletion protection of the tables (false only for throwaway runs)."
  type        = bool
  default     = true
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  arn_prefix = "arn:${data.aws_partition.current.partition}"
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.id

  # The same wiring as modules/platform (see the comment there): the vault functions through
  # a for expression and the audited tables by name, so that the compliance scan renders every
  # input of module.payments.
  vault_functions = { for purpose, f in module.vault.functions : purpose => f if purpose != "admin" }

  cde = {
    subnet_ids         = module.network.data_subnet_ids
    security_group_ids = [module.network.lambda_security_group_id]
  }
}

resource "aws_iam_role" "key_admin" {
  name = "${var.name}-key-admin"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "${local.arn_prefix}:iam::${local.account_id}:root" }
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

  name        = var.name
  kms_key_arn = module.kms.logs_key_arn
  data_event_dynamodb_table_arns = [
    for table in ["payments", "idempotency", "ledger", "vault"] :
    "${local.arn_prefix}:dynamodb:${local.region}:${local.account_id}:table/${var.name}-${table}"
  ]
  force_destroy = !var.deletion_protection
}

module "vault" {
  source = "../../../tokenization_vault"

  name                = var.name
  filename            = var.filename
  runtime             = var.runtime
  vault_key_arn       = module.kms.vault_key_arn
  fingerprint_key_arn = module.kms.fingerprint_key_arn
  env_kms_key_arn     = module.kms.application_key_arn
  logs_kms_key_arn    = module.kms.logs_key_arn
  vpc_config          = local.cde
  deletion_protection = var.deletion_protection
  alarm_sns_topic_arn = module.audit.alarm_topic_arn

  tags = {
    Example = "payment-workflow-basic"
  }
}

# Merchants and their API keys; the authorizer in front of the merchant routes.
module "merchants" {
  source = "../../../merchant_registry"

  name_prefix         = var.name
  environment         = "dev"
  lambda_package      = var.filename
  lambda_runtime      = var.runtime
  data_kms_key_arn    = module.kms.application_key_arn
  logs_kms_key_arn    = module.kms.logs_key_arn
  vpc_config          = local.cde
  alarm_sns_topic_arn = module.audit.alarm_topic_arn
  deletion_protection = var.deletion_protection
  api_gateway         = { execution_arn = module.payments.api_execution_arn }
}

module "payments" {
  source = "../../"

  name_prefix         = var.name
  environment         = "dev"
  lambda_package      = var.filename
  lambda_runtime      = var.runtime
  data_kms_key_arn    = module.kms.application_key_arn
  logs_kms_key_arn    = module.kms.logs_key_arn
  vpc_config          = local.cde
  alarm_sns_topic_arn = module.audit.alarm_topic_arn
  deletion_protection = var.deletion_protection

  tokenize_function_arn    = local.vault_functions.tokenize.function_arn
  tokenize_function_name   = local.vault_functions.tokenize.function_name
  tokenize_invoke_arn      = local.vault_functions.tokenize.invoke_arn
  detokenize_function_name = local.vault_functions.detokenize.function_name
  detokenize_invoke_arn    = local.vault_functions.detokenize.invoke_arn
  # By name: the registry's permission reads this module's API, so its outputs cannot be used.
  merchant_authorizer = {
    invoke_arn = "${local.arn_prefix}:apigateway:${local.region}:lambda:path/2015-03-31/functions/${local.arn_prefix}:lambda:${local.region}:${local.account_id}:function:${var.name}-merchant-authorizer/invocations"
  }

  # Examples of the settings a platform team tunes; everything else keeps its default.
  max_amount_eur                = 5000
  max_amount_minor_overrides    = { JPY = 500000 }
  fraud_rules                   = { review_threshold = 45, "weights.velocity_card" = 50 }
  reconcile_schedule_expression = "rate(6 hours)"

  tags = {
    Example   = "payment-workflow-basic"
    DataClass = "cardholder-data"
  }
}

output "example" {
  description = "What the example deployed: the API, the workflow, the tables, the bus and the functions."
  value = {
    api_name               = module.payments.api_name
    api_url                = module.payments.api_url
    state_machine_arn      = module.payments.state_machine_arn
    payments_table_name    = module.payments.payments_table_name
    idempotency_table_name = module.payments.idempotency_table_name
    ledger_table_name      = module.payments.ledger_table_name
    event_bus_name         = module.payments.event_bus_name
    event_log_group_name   = module.payments.event_log_group_name
    function_names         = module.payments.function_names
    vault_table_name       = module.vault.table_name
    merchant_registry      = module.merchants.table_name
  }
}
