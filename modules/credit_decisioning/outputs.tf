output "function_name" {
  description = "Name of the credit API function (API Gateway integrates POST /v1/credit/decisions, GET /v1/credit/decisions/{id} and GET /v1/bnpl/plans/{id} with it)."
  value       = module.api.function_name
}

output "function_arn" {
  description = "ARN of the credit API function."
  value       = module.api.function_arn
}

output "invoke_arn" {
  description = "Invoke ARN of the credit API function, for an API Gateway integration."
  value       = module.api.invoke_arn
}

output "role_name" {
  description = "Name of the credit API function's role."
  value       = module.api.role_name
}

output "decisions_table_name" {
  description = "DynamoDB table of credit decision records (the audit trail)."
  value       = aws_dynamodb_table.decisions.name
}

output "decisions_table_arn" {
  description = "ARN of the decisions table."
  value       = aws_dynamodb_table.decisions.arn
}

output "plans_table_name" {
  description = "DynamoDB table of BNPL plans."
  value       = aws_dynamodb_table.plans.name
}

output "plans_table_arn" {
  description = "ARN of the plans table."
  value       = aws_dynamodb_table.plans.arn
}

output "bnpl" {
  description = "With var.bnpl set: the bnpl function (function_name, function_arn: the payment workflow's BNPL step), the credit ledger table, the collections rule and the bnpl events' log group; null otherwise."
  value = local.bnpl_enabled ? {
    function_name     = module.bnpl[0].function_name
    function_arn      = module.bnpl[0].function_arn
    ledger_table_name = aws_dynamodb_table.ledger[0].name
    collections_rule  = local.collections_scheduled ? aws_cloudwatch_event_rule.collections[0].name : null
    event_log_group   = aws_cloudwatch_log_group.bnpl_events[0].name
  } : null
}

output "functions" {
  description = "Per function (api; bnpl with var.bnpl set): function_name, function_arn, invoke_arn."
  value = {
    for k, m in merge({ api = module.api }, local.bnpl_enabled ? { bnpl = module.bnpl[0] } : {}) : k => {
      function_name = m.function_name
      function_arn  = m.function_arn
      invoke_arn    = m.invoke_arn
    }
  }
}
