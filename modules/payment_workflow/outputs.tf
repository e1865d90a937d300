locals {
  functions = {
    for key, function in merge(module.step, { payments_api = module.payments_api }) : key => function
  }
}

output "state_machine_arn" {
  description = "ARN of the EXPRESS payment workflow (payments_api starts it with StartSyncExecution)."
  value       = aws_sfn_state_machine.payment.arn
}

output "workflow_role_arn" {
  description = "Execution role of the state machine."
  value       = aws_iam_role.workflow.arn
}

output "payments_table_name" {
  description = "DynamoDB table with one item per payment (tokens, brand, last four digits only)."
  value       = aws_dynamodb_table.payments.name
}

output "payments_table_arn" {
  description = "ARN of the payments table (for CloudTrail data events)."
  value       = aws_dynamodb_table.payments.arn
}

output "idempotency_table_name" {
  description = "DynamoDB table of the API's idempotency records (Powertools layout, TTL on expiration)."
  value       = aws_dynamodb_table.idempotency.name
}

output "idempotency_table_arn" {
  description = "ARN of the idempotency table."
  value       = aws_dynamodb_table.idempotency.arn
}

output "ledger_table_name" {
  description = "DynamoDB table of the double-entry ledger."
  value       = aws_dynamodb_table.ledger.name
}

output "ledger_table_arn" {
  description = "ARN of the ledger table (for CloudTrail data events)."
  value       = aws_dynamodb_table.ledger.arn
}

output "step_vpc_config" {
  description = "Subnets and security groups of each step function (assess_risk, process_payment, reconcile, settle): the data subnets, or the acquirer tier for the functions that call an http acquirer."
  value       = local.step_vpc_config
}

output "event_dead_letter_queue_arn" {
  description = "The payment bus's dead-letter queue: give it to the rules of other modules on the bus (their event_bus.dead_letter_queue_arn); only rules of this bus may send to it."
  value       = aws_sqs_queue.event_dead_letters.arn
}

output "event_bus_name" {
  description = "EventBridge bus of the payment events (source blueprint.payments)."
  value       = aws_cloudwatch_event_bus.payments.name
}

output "event_bus_arn" {
  description = "ARN of the payment event bus (add rules on it to consume payment events)."
  value       = aws_cloudwatch_event_bus.payments.arn
}

output "event_log_group_name" {
  description = "Log group holding every payment event (the event record reconcile reads)."
  value       = aws_cloudwatch_log_group.payment_events.name
}

output "api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "api_name" {
  description = "Name of the Payment API (the local API serves it on the emulator)."
  value       = aws_api_gateway_rest_api.this.name
}

output "api_url" {
  description = "Base URL of the Payment API (a route's path follows it): https://<api_domain_name> with a custom domain (the default endpoint is disabled then), else the invoke URL of the stage v1."
  value       = local.custom_domain ? "https://${var.api_domain_name}" : aws_api_gateway_stage.v1.invoke_url
}

output "api_domain" {
  description = "The custom domain (null without api_domain_name): its name, and the regional_domain_name and regional_zone_id an alias record for the name points at."
  value = local.custom_domain ? {
    domain_name          = aws_api_gateway_domain_name.this[0].domain_name
    regional_domain_name = aws_api_gateway_domain_name.this[0].regional_domain_name
    regional_zone_id     = aws_api_gateway_domain_name.this[0].regional_zone_id
  } : null
}

output "web_acl_arn" {
  description = "ARN of the WAFv2 web ACL associated with the stage."
  value       = aws_wafv2_web_acl.api.arn
}

output "function_names" {
  description = "Lambda function names by key: payments_api, assess_risk, process_payment, reconcile."
  value       = { for k, m in local.functions : k => m.function_name }
}

output "functions" {
  description = "Per function key: function_name, function_arn, role_arn, log_group_name, failure_queue_arn."
  value = {
    for k, m in local.functions : k => {
      function_name     = m.function_name
      function_arn      = m.function_arn
      role_arn          = m.role_arn
      log_group_name    = m.log_group_name
      failure_queue_arn = m.failure_queue_arn
    }
  }
}

output "payments_api_function_name" {
  description = "Name of the payments_api function behind /v1/payments."
  value       = module.payments_api.function_name
}

output "api_execution_arn" {
  description = "Execution ARN of the Payment API (a Lambda permission's source_arn starts with it)."
  value       = aws_api_gateway_rest_api.this.execution_arn
}

output "credit_routes" {
  description = "With var.credit set: the credit routes by key ({method, path}), which credit_decisioning grants API Gateway to invoke its function for."
  value       = { for k, r in local.credit_routes : k => { method = r.method, path = r.path } }
}

output "webhook_routes" {
  description = "With var.webhooks set: the webhook endpoint routes by key ({method, path}), which modules/webhooks grants API Gateway to invoke its function for."
  value       = { for k, r in local.webhook_routes : k => { method = r.method, path = r.path } }
}

output "merchant_usage_plan_ids" {
  description = "Usage plan id by merchant tier (merchant_usage_plans): the merchant registry puts each merchant's API key on its tier's plan (modules/merchant_registry's usage_plans)."
  value       = { for tier, plan in aws_api_gateway_usage_plan.merchant : tier => plan.id }
}
