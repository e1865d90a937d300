# Webhooks (modules/webhooks, docs/decisions/0009): merchants' endpoints, registered through the
# Payment API's webhook routes, receive every payment, fraud (about the merchant) and BNPL event
# on the payment bus, signed, retried for up to a day, with a delivery log per endpoint.
#
# payment_workflow gets the API function by the name webhooks gives it, not from its outputs:
# webhooks reads the bus and the API from payment_workflow, and an input of payment_workflow
# that waited on it would leave every input of payment_workflow unrendered for the compliance
# scan (main.tf, credit.tf). webhooks grants API Gateway its invoke permission per route.

locals {
  webhooks_api_arn = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.name_prefix}-webhooks-api"
  webhook_functions = {
    api_function_name = "${var.name_prefix}-webhooks-api"
    api_invoke_arn    = "arn:${local.partition}:apigateway:${local.region}:lambda:path/2015-03-31/functions/${local.webhooks_api_arn}/invocations"
  }
}

module "webhooks" {
  source = "../webhooks"

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

  event_bus = {
    name                  = module.payment_workflow.event_bus_name
    arn                   = module.payment_workflow.event_bus_arn
    dead_letter_queue_arn = module.payment_workflow.event_dead_letter_queue_arn
  }
  api_gateway = {
    execution_arn = module.payment_workflow.api_execution_arn
    routes        = module.payment_workflow.webhook_routes
  }

  endpoint_policy             = var.webhooks.endpoint_policy
  retry                       = var.webhooks.retry
  delivery_log_retention_days = var.webhooks.delivery_log_retention_days

  tags = var.tags
}
