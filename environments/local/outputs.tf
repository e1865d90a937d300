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
