# The module's functions, each through ../lambda_function (least-privilege role from iam.tf,
# X-Ray, CMK-encrypted environment, encrypted one-year log group, alarms, an on-failure queue
# only where the event holds no card data) and each in the CDE subnets: payments_api receives
# card numbers (and validates them) on their way to the vault's tokenize step.

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
  # stops 4 s before API Gateway's 29 s integration timeout, which also counts a cold start's
  # init: the caller always gets the function's own answer (our error shape, the key released
  # for a retry), never a gateway 504 over a function still running. It waits at most 21 s on
  # the workflow (adapters/clients.stepfunctions). process_payment waits on the acquirer.
  function_settings = {
    payments_api    = { service = "payments-api", handler = "functions.handlers.payments_api.handler", timeout = 25, memory_size = 512 }
    assess_risk     = { service = "assess-risk", handler = "functions.handlers.assess_risk.handler", timeout = 10, memory_size = 256 }
    process_payment = { service = "process-payment", handler = "functions.handlers.process_payment.handler", timeout = 20, memory_size = 256 }
    # Reads by window and stops with a fifth of its time left, keeping a checkpoint, so a
    # backlog spreads over runs. At a million payments a day an hourly run has ~42,000: 27 s
    # of its own work on a full core (0.64 ms a payment, make bench), some 50 s on the ~0.6
    # vCPU of 1,024 MB, plus ~2 requests a payment read 16 at a time: about 100 s of its 240 s
    # budget (docs/ledger.md, "Reconciliation at volume").
    reconcile = { service = "reconcile", handler = "functions.handlers.reconcile.handler", timeout = 300, memory_size = 1024 }
    # Reads the ledger whole (settled references, merchants' settled funds): a daily job.
    settle = { service = "settle", handler = "functions.handlers.settle.handler", timeout = 120, memory_size = 512 }
  }

  common_env = {
    PAYMENTS_ENVIRONMENT = var.environment
  }

  # Per function, not one map (payments_api needs the state machine, which needs the others).
  payments_api_environment = merge(local.common_env, {
    PAYMENTS_TABLE_NAME    = aws_dynamodb_table.payments.name
    IDEMPOTENCY_TABLE_NAME = aws_dynamodb_table.idempotency.name
    STATE_MACHINE_ARN      = aws_sfn_state_machine.payment.arn
    MAX_AMOUNT_EUR         = tostring(var.max_amount_eur)
    EUR_RATES              = local.eur_rates_json
    # Empty when there is none: the function reads "" as no override.
    MAX_AMOUNT_MINOR_OVERRIDES = length(var.max_amount_minor_overrides) == 0 ? "" : jsonencode(var.max_amount_minor_overrides)
  })

  # Fraud score and SCA decision in one step: the SCA decision reads the fired fraud reasons
  # (RTS Art. 18(2)(c)), and one invocation costs less than two (docs/decisions/0002).
  assess_risk_environment = merge(local.common_env, {
    PAYMENTS_TABLE_NAME        = aws_dynamodb_table.payments.name
    FRAUD_RULES                = local.fraud_rules_json
    EUR_RATES                  = local.eur_rates_json
    IP_COUNTRY_RANGES          = local.ip_country_ranges_json
    SCA_TRA_FRAUD_RATE_PERCENT = local.tra_fraud_rate_percent
    # The issuer's country: a fraud signal, and the SCA scope (one leg out).
    ISSUER_COUNTRY_PREFIXES = local.issuer_country_prefixes_json
    }, var.fraud_stream == null ? {} : {
    # What the fraud stream knows: its block list and features (modules/fraud_stream).
    FRAUD_FEATURE_TABLE_NAME    = var.fraud_stream.feature_table_name
    FRAUD_BLOCK_LIST_TABLE_NAME = var.fraud_stream.block_list_table_name
    FRAUD_MODEL_MODE            = var.fraud_stream.model_mode
  })

  # Authorize, capture, refund and void with the acquirer, the journal entry of each and the
  # payment event: one step, so that a sale is one invocation.
  process_payment_environment = merge(local.common_env, {
    PAYMENTS_TABLE_NAME = aws_dynamodb_table.payments.name
    LEDGER_TABLE_NAME   = aws_dynamodb_table.ledger.name
    LEDGER_SHARDS       = tostring(var.ledger_shards)
    EVENT_BUS_NAME      = aws_cloudwatch_event_bus.payments.name
    ACQUIRER_CONNECTOR  = var.acquirer_connector
    ACQUIRER_TIMEOUT_MS = tostring(var.acquirer_timeout_ms)
    # Booked inside the capture's own entry (docs/ledger.md).
    MERCHANT_SERVICE_CHARGE = local.merchant_service_charge_json
  }, local.acquirer_http_environment)

  reconcile_environment = merge(local.common_env, {
    PAYMENTS_TABLE_NAME  = aws_dynamodb_table.payments.name
    LEDGER_TABLE_NAME    = aws_dynamodb_table.ledger.name
    LEDGER_SHARDS        = tostring(var.ledger_shards)
    EVENT_BUS_NAME       = aws_cloudwatch_event_bus.payments.name
    EVENT_LOG_GROUP_NAME = aws_cloudwatch_log_group.payment_events.name
    # Reconcile settles captures and refunds whose acquirer answer was lost, by asking the
    # acquirer, and voids expired authorizations, so it talks to the same connector as
    # process_payment.
    ACQUIRER_CONNECTOR  = var.acquirer_connector
    ACQUIRER_TIMEOUT_MS = tostring(var.acquirer_timeout_ms)
    # Uncaptured authorizations older than this are canceled (reason expired).
    AUTHORIZATION_VALIDITY_DAYS = tostring(var.authorization_validity_days)
    # A capture entry the reconciliation posts books the charge as the workflow would.
    MERCHANT_SERVICE_CHARGE = local.merchant_service_charge_json
    # What a scheduled run (which does not say) does with the safe repairs.
    RECONCILE_REPAIR = tostring(var.reconcile_repair)
  }, local.acquirer_http_environment)
}

module "payments_api" {
  source = "../lambda_function"

  name                           = "${var.name_prefix}-${local.function_settings.payments_api.service}"
  description                    = "Payment API v1: create, read, capture, refund, resume and cancel payments (idempotent); starts the workflow."
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
  # It receives the card number and CVC: a kept failed event would keep them (PCI DSS 3.3.1).
  # API Gateway invokes it synchronously, so nothing is lost but that copy.
  failure_queue_enabled = false
  async_invoke          = local.no_kept_events

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
  # Step Functions invokes the workflow's steps synchronously; their input is the state after
  # tokenize, which holds first six beside the card key (never stored together outside the
  # vault), so they keep no failed asynchronous event either. The scheduled functions are
  # invoked asynchronously and keep theirs for replay: their events hold no card data.
  no_kept_events = { maximum_retry_attempts = 0, maximum_event_age_in_seconds = 60 }
  kept_events    = { maximum_retry_attempts = 2, maximum_event_age_in_seconds = 3600 }

  step_functions = {
    assess_risk = {
      description        = "Scores a payment for fraud and decides strong customer authentication (PSD2) and its exemption; verifies a challenge on resume."
      environment        = local.assess_risk_environment
      statements         = local.assess_risk_statements
      keeps_failed_event = false
    }
    process_payment = {
      description        = "Authorizes, captures, refunds or voids a payment with the acquirer, records it, posts its journal entry and publishes its event."
      environment        = local.process_payment_environment
      statements         = concat(local.process_payment_statements, local.acquirer_credential_statements)
      keeps_failed_event = false
    }
    reconcile = {
      description        = "Reconciles payments, the ledger and the payment event record; repairs and reports gaps."
      environment        = local.reconcile_environment
      statements         = concat(local.reconcile_statements, local.acquirer_credential_statements)
      keeps_failed_event = true
    }
    settle = {
      description        = "Books the acquirer's settlement batches (cash, fees, chargebacks) and pays merchants their settled funds."
      environment        = local.settle_environment
      statements         = concat(local.settle_statements, local.acquirer_credential_statements)
      keeps_failed_event = true
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
  vpc_config                     = local.step_vpc_config[each.key]
  alarm_sns_topic_arn            = var.alarm_sns_topic_arn
  policy_statements              = each.value.statements
  failure_queue_enabled          = each.value.keeps_failed_event
  async_invoke                   = each.value.keeps_failed_event ? local.kept_events : local.no_kept_events

  powertools = {
    service_name = local.function_settings[each.key].service
    log_level    = var.log_level
    # The hot-path steps' outcome metrics apart from the ledger's (slo_alarms.tf).
    metrics_namespace = local.step_metrics_namespace[each.key]
  }
  environment_variables = each.value.environment

  tags = var.tags
}
