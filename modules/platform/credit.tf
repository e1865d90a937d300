# BNPL (modules/credit_decisioning): credit decisions with reasons, plans, the credit ledger,
# the payment workflow's BNPL step and the collections schedule. The credit routes are served by
# the Payment API (payment_workflow's var.credit): same REST API, stage, WAF and IAM signing.
#
# payment_workflow gets the credit functions by the names credit_decisioning gives them, not
# from its outputs: credit_decisioning reads the bus and the API from payment_workflow, and an
# input of payment_workflow that waits on credit_decisioning's outputs leaves every input of
# payment_workflow unrendered for the compliance scan (main.tf; measured: the platform's scan lost
# 10.2.1). Nothing in payment_workflow needs the functions to exist first: credit_decisioning
# grants API Gateway its invoke permissions. The credit output holds the names to the functions
# (a precondition).

locals {
  credit_function_arns = {
    for f in ["credit-api", "bnpl"] :
    f => "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.name_prefix}-${f}"
  }
  credit_functions = {
    api_function_name = "${var.name_prefix}-credit-api"
    api_invoke_arn    = "arn:${local.partition}:apigateway:${local.region}:lambda:path/2015-03-31/functions/${local.credit_function_arns["credit-api"]}/invocations"
    bnpl_function_arn = local.credit_function_arns["bnpl"]
  }
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
  credit_policy       = var.credit_policy
  eur_rates           = { for currency, rate in coalesce(var.eur_rates, {}) : currency => tostring(rate) if currency != "EUR" }
  api                 = { reserved_concurrency = local.reserved_concurrency.credit_api }

  api_gateway = {
    execution_arn = module.payment_workflow.api_execution_arn
    routes        = module.payment_workflow.credit_routes
  }

  bnpl = {
    event_bus = {
      name                  = module.payment_workflow.event_bus_name
      arn                   = module.payment_workflow.event_bus_arn
      dead_letter_queue_arn = module.payment_workflow.event_dead_letter_queue_arn
    }
    payments_table = {
      name = module.payment_workflow.payments_table_name
      arn  = module.payment_workflow.payments_table_arn
    }
    acquirer_timeout_ms = coalesce(var.acquirer_timeout_ms, 3000)
    merchant_service_charge = (
      length(var.merchant_service_charge.default) == 0 && length(var.merchant_service_charge.merchants) == 0
      ? "" : jsonencode(var.merchant_service_charge)
    )
    collections_schedule_expression = var.bnpl_collections_schedule_expression
    late_fees                       = var.bnpl_late_fees
    reserved_concurrency            = local.reserved_concurrency.bnpl
  }

  # Applicants' declared finances and dates of birth: personal data (the module tags it so).
  tags = var.tags
}
