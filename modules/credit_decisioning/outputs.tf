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
