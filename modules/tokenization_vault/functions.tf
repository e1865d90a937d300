locals {
  function_defaults = {
    filename              = var.filename
    runtime               = var.runtime
    architecture          = var.architecture
    kms_key_arn           = var.env_kms_key_arn
    log_kms_key_arn       = var.logs_kms_key_arn
    log_retention_in_days = var.log_retention_in_days
  }

  # The three functions see card numbers (tokenize receives them, detokenize returns them, admin
  # decrypts every record to rewrap it), so none keeps a failed asynchronous invocation: the
  # kept record would be the event, card number and CVC included, in an SQS queue for up to 14
  # days (finding 11; PCI DSS 3.2.1, 3.3.1). They are invoked synchronously (API Gateway, the
  # payment workflow, operators); an asynchronous event is neither retried nor held by Lambda
  # for more than a minute, then dropped (the function's Errors alarm still counts it).
  # CKV_PCI_021 checks it.
  card_data_async = {
    failure_queue_enabled = false
    async_invoke          = { maximum_retry_attempts = 0, maximum_event_age_in_seconds = 60 }
  }
}

module "tokenize" {
  source = "../lambda_function"

  name                           = "${var.name}-tokenize"
  description                    = "Tokenize cards into the vault (POST /v1/tokens and the payment workflow)."
  filename                       = local.function_defaults.filename
  handler                        = "functions.handlers.tokenize.handler"
  runtime                        = local.function_defaults.runtime
  architecture                   = local.function_defaults.architecture
  memory_size                    = var.memory_size
  timeout                        = 10
  reserved_concurrent_executions = var.reserved_concurrency.tokenize
  kms_key_arn                    = local.function_defaults.kms_key_arn
  log_kms_key_arn                = local.function_defaults.log_kms_key_arn
  log_retention_in_days          = local.function_defaults.log_retention_in_days
  vpc_config                     = var.vpc_config
  environment_variables          = local.tokenize_env
  powertools                     = { service_name = "vault-tokenize" }
  policy_statements              = local.role_statements.tokenize
  alarm_sns_topic_arn            = var.alarm_sns_topic_arn
  permissions_boundary_arn       = var.permissions_boundary_arn
  failure_queue_enabled          = false # card data: local.card_data_async
  async_invoke                   = local.card_data_async.async_invoke

  tags = local.chd_tags
}

module "detokenize" {
  source = "../lambda_function"

  name                           = "${var.name}-detokenize"
  description                    = "Detokenize (restricted, audited): POST /v1/tokens/{token}/detokenize."
  filename                       = local.function_defaults.filename
  handler                        = "functions.handlers.detokenize.handler"
  runtime                        = local.function_defaults.runtime
  architecture                   = local.function_defaults.architecture
  memory_size                    = var.memory_size
  timeout                        = 10
  reserved_concurrent_executions = var.reserved_concurrency.detokenize
  kms_key_arn                    = local.function_defaults.kms_key_arn
  log_kms_key_arn                = local.function_defaults.log_kms_key_arn
  log_retention_in_days          = local.function_defaults.log_retention_in_days
  vpc_config                     = var.vpc_config
  environment_variables = merge(local.common_env, local.audit_env, {
    DETOKENIZE_ALLOWED_PRINCIPALS = join(",", var.detokenize_allowed_principals)
  })
  powertools               = { service_name = "vault-detokenize" }
  policy_statements        = local.role_statements.detokenize
  alarm_sns_topic_arn      = var.alarm_sns_topic_arn
  permissions_boundary_arn = var.permissions_boundary_arn
  failure_queue_enabled    = false # card data: local.card_data_async
  async_invoke             = local.card_data_async.async_invoke

  # PANAccess records the access decision CKV_PCI_009 checks (PCI DSS 7.2.1): this role
  # decrypts card records with the vault key.
  tags = merge(local.chd_tags, { PANAccess = "decrypt" })
}

module "admin" {
  source = "../lambda_function"

  name                           = "${var.name}-vault-admin"
  description                    = "Vault administration (not behind the API): erase_customer and rewrap events."
  filename                       = local.function_defaults.filename
  handler                        = "functions.handlers.vault_admin.handler"
  runtime                        = local.function_defaults.runtime
  architecture                   = local.function_defaults.architecture
  memory_size                    = var.memory_size
  timeout                        = 900
  reserved_concurrent_executions = var.reserved_concurrency.admin
  kms_key_arn                    = local.function_defaults.kms_key_arn
  log_kms_key_arn                = local.function_defaults.log_kms_key_arn
  log_retention_in_days          = local.function_defaults.log_retention_in_days
  vpc_config                     = var.vpc_config
  environment_variables          = merge(local.common_env, local.audit_env)
  powertools                     = { service_name = "vault-admin" }
  policy_statements              = local.role_statements.admin
  alarm_sns_topic_arn            = var.alarm_sns_topic_arn
  permissions_boundary_arn       = var.permissions_boundary_arn
  failure_queue_enabled          = false # card data: local.card_data_async
  async_invoke                   = local.card_data_async.async_invoke

  # rewrap decrypts every record with the vault key (PANAccess, CKV_PCI_009)
  tags = merge(local.chd_tags, { PANAccess = "decrypt" })
}
