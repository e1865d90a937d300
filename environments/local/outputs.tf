output "payment_state_machine_arn" {
  description = "ARN of the EXPRESS payment workflow on the emulator."
  value       = module.platform.payment_state_machine_arn
}

output "payments_table_name" {
  description = "Payments table on the emulator."
  value       = module.platform.payments_table_name
}

output "function_names" {
  description = "Lambda function names by purpose."
  value       = module.platform.function_names
}

output "api_name" {
  description = "The REST API the local API serves on 127.0.0.1:$LOCAL_API_PORT."
  value       = module.platform.api_name
}

output "vault" {
  description = "The tokenization vault: table, functions and audit trail."
  value       = module.platform.vault
}

output "detokenizer_role_arn" {
  description = "The role allowed to detokenize (assume it to sign detokenize calls)."
  value       = aws_iam_role.detokenizer.arn
}
