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

output "state_machine_arn" {
  description = "ARN of the EXPRESS payment workflow on the emulator (same as payment_state_machine_arn)."
  value       = module.platform.state_machine_arn
}

output "idempotency_table_name" {
  description = "Idempotency records of the Payment API on the emulator."
  value       = module.platform.idempotency_table_name
}

output "ledger_table_name" {
  description = "The double-entry ledger table on the emulator."
  value       = module.platform.ledger_table_name
}

output "event_bus_name" {
  description = "Payment event bus (source blueprint.payments) on the emulator."
  value       = module.platform.event_bus_name
}

output "event_log_group_name" {
  description = "Log group recording every payment event on the emulator."
  value       = module.platform.event_log_group_name
}

output "api_url" {
  description = "Invoke URL the emulator reports for the API stage (the local API serves it on 127.0.0.1:$LOCAL_API_PORT)."
  value       = module.platform.api_url
}

output "payments_api_function_name" {
  description = "The function behind /v1/payments on the emulator."
  value       = module.platform.payments_api_function_name
}

output "fraud_stream" {
  description = "The fraud stream on the emulator: stream, feature and block-list tables, consumer."
  value       = module.platform.fraud_stream
}

output "data_lake" {
  description = "The payment data lake on the emulator: bucket, Glue database and table, delivery stream, Athena workgroup, named queries."
  value       = module.platform.data_lake
}

output "credit" {
  description = "BNPL on the emulator: credit API and bnpl functions, decision, plan and credit ledger tables (make collect-bnpl invokes the bnpl function)."
  value       = module.platform.credit
}

output "merchant_registry" {
  description = "Merchants and their API keys on the emulator: the registry table (make merchant ID=... writes it) and the authorizer function."
  value       = module.platform.merchant_registry
}

output "webhooks" {
  description = "Webhooks on the emulator: table, functions, queues, and the local-only endpoint opt-outs in force (plain http and private addresses, for local/webhook_receiver.py)."
  value       = module.platform.webhooks
}
