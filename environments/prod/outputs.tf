output "api_url" {
  description = "Invoke URL of the Payment API."
  value       = module.platform.api_url
}

output "payment_state_machine_arn" {
  description = "ARN of the EXPRESS payment workflow."
  value       = module.platform.payment_state_machine_arn
}

output "payments_table_name" {
  description = "DynamoDB table holding one record per payment (tokenized data only)."
  value       = module.platform.payments_table_name
}

output "event_bus_name" {
  description = "Payment event bus (source blueprint.payments): add rules here to consume payment events."
  value       = module.platform.event_bus_name
}

output "function_names" {
  description = "Lambda function names of the payment workflow by key."
  value       = module.platform.function_names
}

output "capacity" {
  description = "What capacity sizes: reserved concurrency per function and in total, the quota, the stage's rate limit and WAF's per-IP limit."
  value       = module.platform.capacity
}
