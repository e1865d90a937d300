output "payment_state_machine_arn" {
  description = "ARN of the EXPRESS payment workflow (same as state_machine_arn; kept for existing callers)."
  value       = module.payment_workflow.state_machine_arn
}

output "state_machine_arn" {
  description = "ARN of the EXPRESS payment workflow."
  value       = module.payment_workflow.state_machine_arn
}

output "payments_table_name" {
  description = "DynamoDB table holding one record per payment (tokenized data only)."
  value       = module.payment_workflow.payments_table_name
}

output "idempotency_table_name" {
  description = "DynamoDB table of the Payment API's idempotency records."
  value       = module.payment_workflow.idempotency_table_name
}

output "ledger_table_name" {
  description = "DynamoDB table of the double-entry ledger."
  value       = module.payment_workflow.ledger_table_name
}

output "event_bus_name" {
  description = "EventBridge bus of the payment events (source blueprint.payments)."
  value       = module.payment_workflow.event_bus_name
}

output "event_log_group_name" {
  description = "Log group recording every payment event (read by reconcile)."
  value       = module.payment_workflow.event_log_group_name
}

output "function_names" {
  description = "Lambda function names of the payment workflow by key (payments_api, assess_risk, process_payment, reconcile)."
  value       = module.payment_workflow.function_names
}

output "payments_api_function_name" {
  description = "Name of the function behind /v1/payments."
  value       = module.payment_workflow.payments_api_function_name
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
  value       = module.payment_workflow.api_name
}

output "api_url" {
  description = "Base URL of the Payment API: https://<api_domain_name> with a custom domain, else the invoke URL of the stage."
  value       = module.payment_workflow.api_url
}

output "api_domain" {
  description = "The Payment API's custom domain (null without api_domain_name): domain_name, and the regional_domain_name and regional_zone_id its DNS alias record points at."
  value       = module.payment_workflow.api_domain
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

output "fraud_stream" {
  description = "The fraud stream: stream_arn, feature_table_name, block_list_table_name, consumer (function_name, failure_queue_url, ...)."
  value = {
    stream_arn            = module.fraud_stream.stream_arn
    stream_name           = module.fraud_stream.stream_name
    feature_table_name    = module.fraud_stream.feature_table_name
    block_list_table_name = module.fraud_stream.block_list_table_name
    consumer              = module.fraud_stream.consumer
  }

  precondition {
    condition = (
      local.fraud_tables.features == module.fraud_stream.feature_table_name &&
      local.fraud_tables.block_list == module.fraud_stream.block_list_table_name
    )
    error_message = "The fraud tables the assess step is given (local.fraud_tables) no longer match the tables fraud_stream creates: update fraud.tf."
  }
}

output "security_baseline" {
  description = "The account's detective controls (modules/security_baseline): GuardDuty detector id, Security Hub standards, Config recorder, bucket and rules, Inspector's resource types, and the services opted out."
  value       = module.security_baseline
}

output "data_lake" {
  description = "The payment data lake: bucket, Glue database, the payment_events table and its delivery stream, every table with its delivery stream (tables), the pseudonym key table, Athena workgroup and named query ids (make lake-query reads the database)."
  value = {
    bucket_name         = module.data_lake.lake_bucket.name
    results_bucket_name = module.data_lake.results_bucket.name
    database_name       = module.data_lake.glue_database_name
    table_name          = module.data_lake.payment_events_table_name
    delivery_stream     = module.data_lake.delivery_stream.name
    tables              = module.data_lake.tables
    pseudonym_key_table = module.data_lake.pseudonym_key_table.name
    workgroup_name      = module.data_lake.athena_workgroup_name
    named_queries       = module.data_lake.named_queries
  }
}

output "credit" {
  description = "BNPL: the credit API and bnpl functions, the decision, plan and credit ledger tables, the collections rule, the bnpl events' log group."
  value = {
    api_function_name    = module.credit_decisioning.function_name
    bnpl_function_name   = module.credit_decisioning.bnpl.function_name
    decisions_table_name = module.credit_decisioning.decisions_table_name
    plans_table_name     = module.credit_decisioning.plans_table_name
    ledger_table_name    = module.credit_decisioning.bnpl.ledger_table_name
    collections_rule     = module.credit_decisioning.bnpl.collections_rule
    event_log_group_name = module.credit_decisioning.bnpl.event_log_group
  }

  precondition {
    condition = (
      local.credit_functions.api_function_name == module.credit_decisioning.function_name &&
      local.credit_functions.api_invoke_arn == module.credit_decisioning.invoke_arn &&
      local.credit_functions.bnpl_function_arn == module.credit_decisioning.bnpl.function_arn
    )
    error_message = "The credit functions payment_workflow is given (local.credit_functions) no longer match the functions credit_decisioning creates: update credit.tf."
  }
}

output "merchant_registry" {
  description = "Merchants and their API keys: the registry table (python -m local.cli merchant writes it) and the authorizer function."
  value = {
    table_name               = module.merchant_registry.table_name
    authorizer_function_name = module.merchant_registry.authorizer_function_name
  }

  precondition {
    condition     = module.merchant_registry.authorizer_function_arn == local.merchant_authorizer_arn
    error_message = "The Payment API's authorizer (local.merchant_authorizer) no longer names the function merchant_registry creates: update merchants.tf."
  }
}

output "backup_vault_arn" {
  description = "The locked AWS Backup vault of the vault and ledger tables; null unless backup.enabled."
  value       = one(module.backup[*].vault_arn)
}

output "webhooks" {
  description = "Webhooks: the endpoints and delivery log table, the API and delivery functions, the queues, and the endpoint URL rules in force (true: a local-only opt-out)."
  value = {
    table_name             = module.webhooks.table_name
    api_function_name      = module.webhooks.api_function_name
    delivery_function_name = module.webhooks.delivery_function_name
    events_queue_url       = module.webhooks.events_queue_url
    delivery_queue_url     = module.webhooks.delivery_queue_url
    dead_letter_queue_urls = module.webhooks.dead_letter_queue_urls
    endpoint_policy        = module.webhooks.endpoint_policy
  }

  precondition {
    condition     = module.webhooks.api_function_name == local.webhook_functions.api_function_name
    error_message = "The Payment API's webhook routes (local.webhook_functions) no longer name the function webhooks creates: update webhooks.tf."
  }
}
