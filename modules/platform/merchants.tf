# Merchants and their secret API keys (modules/merchant_registry, docs/decisions/0008): the
# registry table and the authorizer in front of the Payment API's merchant routes. Onboarding a
# merchant writes the table; it needs no apply.
#
# payment_workflow gets the authorizer by the name merchant_registry gives it, not from its
# outputs: merchant_registry reads the API from payment_workflow (its invoke permission), and an
# input of payment_workflow that waited on it would leave every input of payment_workflow
# unrendered for the compliance scan (main.tf). The merchant_registry output holds the name to
# the function (a precondition).

locals {
  merchant_authorizer_arn = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.name_prefix}-merchant-authorizer"
  merchant_authorizer = {
    invoke_arn         = "arn:${local.partition}:apigateway:${local.region}:lambda:path/2015-03-31/functions/${local.merchant_authorizer_arn}/invocations"
    result_ttl_seconds = var.merchant_authorizer_result_ttl_seconds
  }
}

module "merchant_registry" {
  source = "../merchant_registry"

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
  authorizer          = { reserved_concurrency = local.reserved_concurrency.merchant_authorizer }

  api_gateway = {
    execution_arn = module.payment_workflow.api_execution_arn
  }
  # Where onboarding finds each tier's usage plan (the registry's config#usage_plans item).
  usage_plans = module.payment_workflow.merchant_usage_plan_ids

  tags = var.tags
}
