# BNPL (modules/credit_decisioning): credit decisions with reasons, plans, the credit ledger,
# the payment workflow's BNPL step and the collections schedule. The credit routes are served by
# the Payment API (payment_workflow's var.credit): same REST API, stage, WAF and IAM signing.
#
# payment_workflow gets the credit functions through a for expression over the module's
# functions output, as it gets the vault's (main.tf): Terraform follows the dependency,
# checkov's reference scan does not, and payment_workflow's inputs stay renderable for it.

locals {
  credit_functions = { for purpose, f in module.credit_decisioning.functions : purpose => f }
}

module "credit_decisioning" {
  source = "../credit_decisioning"

  name_prefix         = var.name_prefix
  environment         = var.environment
  lambda_package      = var.lambda_package
  lambda_runtime      = var.lambda_runtime
  log_level           = var.log_level
  log_retention_days  = var.log_retention_days
  data_kms_key_arn    = module.kms.application_key_arn
  logs_kms_key_arn    = module.kms.logs_key_arn
  vpc_config          = local.cde_vpc_config
  alarm_sns_topic_arn = module.audit.alarm_topic_arn
  deletion_protection = var.deletion_protection
  merchant_principals = var.merchant_principals
  credit_policy       = var.credit_policy
  eur_rates           = { for currency, rate in coalesce(var.eur_rates, {}) : currency => tostring(rate) if currency != "EUR" }

  bnpl = {
    event_bus = {
      name = module.payment_workflow.event_bus_name
      arn  = module.payment_workflow.event_bus_arn
    }
    acquirer_timeout_ms = coalesce(var.acquirer_timeout_ms, 3000)
    merchant_service_charge = (
      length(var.merchant_service_charge.default) == 0 && length(var.merchant_service_charge.merchants) == 0
      ? "" : jsonencode(var.merchant_service_charge)
    )
    collections_schedule_expression = var.bnpl_collections_schedule_expression
  }

  # Applicants' declared finances and dates of birth: personal data (the module tags it so).
  tags = var.tags
}
