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
  value = {
    validate_payment = module.validate_payment.function_name
  }
}

output "key_arns" {
  description = "Customer-managed KMS key ARNs by purpose."
  value       = module.kms.key_arns
}

output "vpc_id" {
  description = "The platform's VPC."
  value       = module.network.vpc_id
}

output "audit_trail_arn" {
  description = "The CloudTrail trail recording management and cardholder-data events."
  value       = module.audit.trail_arn
}

output "audit_archive_bucket_name" {
  description = "The Object Lock audit log archive."
  value       = module.audit.archive_bucket_name
}
