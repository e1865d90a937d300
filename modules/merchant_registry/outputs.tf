output "table_name" {
  description = "The registry table (merchants and key hashes): what the admin commands write."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the registry table."
  value       = aws_dynamodb_table.this.arn
}

output "keys_index_name" {
  description = "The registry's index of a merchant's keys (key_owner)."
  value       = local.keys_index
}

output "authorizer_function_name" {
  description = "Name of the merchant authorizer function."
  value       = module.authorizer.function_name
}

output "authorizer_function_arn" {
  description = "ARN of the merchant authorizer function."
  value       = module.authorizer.function_arn
}

output "authorizer_invoke_arn" {
  description = "Invoke ARN of the authorizer (an API Gateway authorizer's authorizer_uri)."
  value       = module.authorizer.invoke_arn
}

output "authorizer_role_arn" {
  description = "The authorizer's execution role."
  value       = module.authorizer.role_arn
}
