output "payment_state_machine_arn" {
  description = "ARN of the EXPRESS payment workflow."
  value       = aws_sfn_state_machine.payment.arn
}

output "payments_table_name" {
  description = "DynamoDB table holding one record per payment (tokenized data only)."
  value       = aws_dynamodb_table.payments.name
}

output "function_names" {
  description = "Lambda function names by purpose."
  value       = { for key, fn in aws_lambda_function.this : key => fn.function_name }
}

output "app_kms_key_arn" {
  description = "Customer-managed key of the application data."
  value       = aws_kms_key.this.arn
}
