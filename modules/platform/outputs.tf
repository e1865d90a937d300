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

output "api_name" {
  description = "Name of the Payment API (the local API serves it on the emulator)."
  value       = aws_api_gateway_rest_api.this.name
}

output "api_url" {
  description = "Invoke URL of the Payment API stage."
  value       = aws_api_gateway_stage.v1.invoke_url
}

output "vault" {
  description = "The tokenization vault: table, functions and audit trail."
  value = {
    table_name           = module.vault.table_name
    tokenize_function    = module.vault.tokenize_function_name
    detokenize_function  = module.vault.detokenize_function_name
    admin_function       = module.vault.admin_function_name
    audit_log_group_name = module.vault.audit_log_group_name
    audit_event_bus_name = module.vault.audit_event_bus_name
  }
}
