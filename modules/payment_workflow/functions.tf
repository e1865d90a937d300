# The module's functions, each through ../lambda_function (least-privilege role from iam.tf,
# X-Ray, CMK-encrypted environment, encrypted one-year log group, alarms, on-failure queue) and
# each in the CDE subnets: payments_api and validate_payment see card numbers.

locals {
  function_defaults = {
    filename              = var.lambda_package
    runtime               = var.lambda_runtime
    kms_key_arn           = var.data_kms_key_arn
    log_kms_key_arn       = var.logs_kms_key_arn
    log_retention_in_days = var.log_retention_days
  }

  # Handler, timeout (s) and memory (MB) per function. The service name (the key with dashes)
  # names the function (<prefix>-<service>) and its Powertools logs and metrics. payments_api
  # may use all of API Gateway's 29 s; process_payment waits on the acquirer.
  function_settings = {
    payments_api     = { service = "payments-api", handler = "functions.handlers.payments_api.handler", timeout = 29, memory_size = 512 }
    validate_payment = { service = "validate-payment", handler = "functions.handlers.validate_payment.handler", timeout = 5, memory_size = 256 }
    score_fraud      = { service = "score-fraud", handler = "functions.handlers.score_fraud.handler", timeout = 10, memory_size = 256 }
    decide_sca       = { service = "decide-sca", handler = "functions.handlers.decide_sca.handler", timeout = 10, memory_size = 256 }
    process_payment  = { service = "process-payment", handler = "functions.handlers.process_payment.handler", timeout = 15, memory_size = 256 }
    post_ledger      = { service = "post-ledger", handler = "functions.handlers.post_ledger.handler", timeout = 10, memory_size = 256 }
    reconcile        = { service = "reconcile", handler = "functions.handlers.reconcile.handler", timeout = 10, memory_size = 512 }
  }

  common_env = {
    PAYMENTS_ENVIRONMENT = var.environment
  }

  # Per function, not one map (payments_api needs the state machine, which needs the others).
  payments_api_environment = merge(local.common_env, {
    PAYMENTS_TABLE_NAME    = aws_dynamodb_table.payments.name
    IDEMPOTENCY_TABLE_NAME = aws_dynamodb_table.idempotency.name
    STATE_MACHINE_ARN      = aws_sfn_state_machine.payment.arn
    MAX_AMOUNT_MINOR       = tostring(var.max_amount_minor)
    MERCHANT_PRINCIPALS    = jsonencode(var.merchant_principals)
  })

  validate_payment_environment = local.common_env

  score_fraud_environment = merge(local.common_env, {
    PAYMENTS_TABLE_NAME     = aws_dynamodb_table.payments.name
    FRAUD_RULES             = local.fraud_rules_json
    EUR_RATES               = local.eur_rates_json
    IP_COUNTRY_RANGES       = local.ip_country_ranges_json
    ISSUER_COUNTRY_PREFIXES = local.issuer_country_prefixes_json
  })

  decide_sca_environment = merge(local.common_env, {
    PAYMENTS_TABLE_NAME        = aws_dynamodb_table.payments.name
    EUR_RATES                  = local.eur_rates_json
    SCA_TRA_FRAUD_RATE_PERCENT = local.tra_fraud_rate_percent
    # The issuer's country decides the SCA scope (one leg out).
    ISSUER_COUNTRY_PREFIXES = local.issuer_country_prefixes_json
  })

  process_payment_environment = merge(local.common_env, {
    PAYMENTS_TABLE_NAME = aws_dynamodb_table.payments.name
    EVENT_BUS_NAME      = aws_cloudwatch_event_bus.payments.name
    ACQUIRER_CONNECTOR  = var.acquirer_connector
    ACQUIRER_TIMEOUT_MS = tostring(var.acquirer_timeout_ms)
  })

  post_ledger_environment = merge(local.common_env, {
    LEDGER_TABLE_NAME = aws_dynamodb_table.ledger.name
    LEDGER_SHARDS     = tostring(var.ledger_shards)
  })

  reconcile_environment = merge(local.common_env, {
    PAYMENTS_TABLE_NAME  = aws_dynamodb_table.payments.name
    LEDGER_TABLE_NAME    = aws_dynamodb_table.ledger.name
    LEDGER_SHARDS        = tostring(var.ledger_shards)
    EVENT_BUS_NAME       = aws_cloudwatch_event_bus.payments.name
    EVENT_LOG_GROUP_NAME = aws_cloudwatch_log_group.payment_events.name
    # Reconcile settles captures and refunds whose acquirer answer was lost, by asking the
    # acquirer, so it talks to the same connector as process_payment.
    ACQUIRER_CONNECTOR  = var.acquirer_connector
    ACQUIRER_TIMEOUT_MS = tostring(var.acquirer_timeout_ms)
  })
}

module "payments_api" {
  source = "../lambda_function"

  name                           = "${var.name_prefix}-${local.function_settings.payments_api.service}"
  description                    = "Payment API v1: create, read, capture, refund and resume payments (idempotent); starts the workflow."
  filename                       = local.function_defaults.filename
  handler                        = local.function_settings.payments_api.handler
  runtime                        = local.function_defaults.runtime
  memory_size                    = local.function_settings.payments_api.memory_size
  timeout                        = local.function_settings.payments_api.timeout
  reserved_concurrent_executions = var.reserved_concurrency.payments_api
  kms_key_arn                    = local.function_defaults.kms_key_arn
  log_kms_key_arn                = local.function_defaults.log_kms_key_arn
  log_retention_in_days          = local.function_defaults.log_retention_in_days
  vpc_config                     = var.vpc_config
  alarm_sns_topic_arn            = var.alarm_sns_topic_arn
  policy_statements              = local.payments_api_statements

  powertools = {
    service_name = local.function_settings.payments_api.service
    log_level    = var.log_level
  }
  environment_variables = local.payments_api_environment

  tags = var.tags
}

# The steps and the reconciliation: one module instance each, the same building block with
# their own role, environment and settings. (payments_api stays apart: it needs the state
# machine, which needs these.)
locals {
  step_functions = {
    validate_payment = {
      description = "Validates a payment request and its card (Luhn, brand, length, expiry)."
      environment = local.validate_payment_environment
      statements  = local.validate_payment_statements
    }
    score_fraud = {
      description = "Scores a payment for fraud (amount, velocity per card and device, country mismatches)."
      environment = local.score_fraud_environment
      statements  = local.score_fraud_statements
    }
    decide_sca = {
      description = "Decides strong customer authentication (PSD2) and the exemption for a payment."
      environment = local.decide_sca_environment
      statements  = local.decide_sca_statements
    }
    process_payment = {
      description = "Authorizes, captures, refunds or voids a payment with the acquirer and records it."
      environment = local.process_payment_environment
      statements  = local.process_payment_statements
    }
    post_ledger = {
      description = "Posts a payment's double-entry ledger transaction exactly once."
      environment = local.post_ledger_environment
      statements  = local.post_ledger_statements
    }
    reconcile = {
      description = "Reconciles payments, the ledger and the payment event record; repairs and reports gaps."
      environment = local.reconcile_environment
      statements  = local.reconcile_statements
    }
  }
}

module "step" {
  source   = "../lambda_function"
  for_each = local.step_functions

  name                           = "${var.name_prefix}-${local.function_settings[each.key].service}"
  description                    = each.value.description
  filename                       = local.function_defaults.filename
  handler                        = local.function_settings[each.key].handler
  runtime                        = local.function_defaults.runtime
  memory_size                    = local.function_settings[each.key].memory_size
  timeout                        = local.function_settings[each.key].timeout
  reserved_concurrent_executions = var.reserved_concurrency[each.key]
  kms_key_arn                    = local.function_defaults.kms_key_arn
  log_kms_key_arn                = local.function_defaults.log_kms_key_arn
  log_retention_in_days          = local.function_defaults.log_retention_in_days
  vpc_config                     = var.vpc_config
  alarm_sns_topic_arn            = var.alarm_sns_topic_arn
  policy_statements              = each.value.statements

  powertools = {
    service_name = local.function_settings[each.key].service
    log_level    = var.log_level
  }
  environment_variables = each.value.environment

  tags = var.tags
}
