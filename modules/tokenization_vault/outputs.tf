locals {
  functions = {
    tokenize   = module.tokenize
    detokenize = module.detokenize
    admin      = module.admin
  }
}

output "functions" {
  description = "Per function (tokenize, detokenize, admin): function_name, function_arn, invoke_arn, role_arn, log_group_name."
  value = {
    for k, m in local.functions : k => {
      function_name  = m.function_name
      function_arn   = m.function_arn
      invoke_arn     = m.invoke_arn
      role_arn       = m.role_arn
      log_group_name = m.log_group_name
    }
  }
}

output "tokenize_function_name" {
  description = "Name of the tokenize function (API handler functions.handlers.tokenize.handler)."
  value       = module.tokenize.function_name
}

output "tokenize_function_arn" {
  description = "ARN of the tokenize function. The payment workflow invokes this same function for its tokenize step, with workflow = tokenize in its payload."
  value       = module.tokenize.function_arn
}

output "tokenize_invoke_arn" {
  description = "Invoke ARN of the tokenize function, for the API Gateway integration of POST /v1/tokens."
  value       = module.tokenize.invoke_arn
}

output "detokenize_function_name" {
  description = "Name of the detokenize function."
  value       = module.detokenize.function_name
}

output "detokenize_function_arn" {
  description = "ARN of the detokenize function."
  value       = module.detokenize.function_arn
}

output "detokenize_invoke_arn" {
  description = "Invoke ARN of the detokenize function, for POST /v1/tokens/{token}/detokenize (IAM authorization)."
  value       = module.detokenize.invoke_arn
}

output "admin_function_name" {
  description = "Name of the vault admin function (erase_customer, rewrap)."
  value       = module.admin.function_name
}

output "admin_function_arn" {
  description = "ARN of the vault admin function."
  value       = module.admin.function_arn
}

output "tokenize_role_arn" {
  description = "Execution role of tokenize; give it to the kms module as key_users.vault_encrypt and key_users.fingerprint."
  value       = module.tokenize.role_arn
}

output "detokenize_role_arn" {
  description = "Execution role of detokenize; the only API role that may decrypt vault records (key_users.vault_decrypt)."
  value       = module.detokenize.role_arn
}

output "admin_role_arn" {
  description = "Execution role of the admin function (erasure, rewrap)."
  value       = module.admin.role_arn
}

output "table_name" {
  description = "Name of the vault table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the vault table; pass it to the audit module's data_event_dynamodb_table_arns."
  value       = aws_dynamodb_table.this.arn
}

output "key_table_name" {
  description = "Name of the customer-key table (no PITR: an erased key is gone for good)."
  value       = aws_dynamodb_table.keys.name
}

output "key_table_arn" {
  description = "ARN of the customer-key table; pass it to the audit module's data_event_dynamodb_table_arns with table_arn."
  value       = aws_dynamodb_table.keys.arn
}

output "audit_log_group_name" {
  description = "Name of the KMS-encrypted detokenization audit log group."
  value       = aws_cloudwatch_log_group.audit.name
}

output "audit_log_group_arn" {
  description = "ARN of the detokenization audit log group."
  value       = aws_cloudwatch_log_group.audit.arn
}

output "audit_event_bus_name" {
  description = "EventBridge bus receiving the vault audit events (source payments.vault); null when none was given."
  value       = local.audit_event_bus_name
}

output "audit_event_bus_arn" {
  description = "ARN of the audit event bus; null when none was given."
  value       = local.audit_event_bus_arn
}

output "tokenize_rate_limited_alarm_arn" {
  description = "ARN of the alarm on tokenizations refused by the rate limit per merchant and card class (TokenizeRateLimited, finding 5)."
  value       = aws_cloudwatch_metric_alarm.signal["tokenize_rate_limited"].arn
}
