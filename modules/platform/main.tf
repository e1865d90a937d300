# The composition every environment calls: the secure foundation (keys, private network, audit)
# and the payment components on top of it. Environments pass only what differs between them.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  # Functions that read card data run in the data tier: the cardholder data environment.
  cde_vpc_config = {
    subnet_ids         = module.network.data_subnet_ids
    security_group_ids = [module.network.lambda_security_group_id]
  }
  cde_tags = merge(var.tags, { DataClass = "cardholder-data", PCIScope = "cde" })

  # The API's Lambda permissions need the vault functions to exist: a real dependency.
  vault_functions = { for purpose, f in module.vault.functions : purpose => f if purpose != "admin" }
}

module "kms" {
  source = "../kms"

  alias_prefix            = "alias/${var.name_prefix}"
  key_administrator_arns  = var.key_administrator_arns
  cryptoperiod_days       = var.cryptoperiod_days
  deletion_window_in_days = 30
  backup_key              = var.backup.enabled
  # The vault key is usable only by the vault functions' roles, named as modules/tokenization_vault
  # and lambda_function name them (<name>-<function>-role): their outputs would be a cycle, since
  # the functions use this module's other keys, one resource with the vault key
  # (aws_kms_key.symmetric). The key policy matches them on aws:PrincipalArn, so they need not
  # exist before the key.
  vault_key_policy = {
    crypto_role_arns = [
      for function in ["tokenize", "detokenize", "vault-admin"] :
      "arn:${local.partition}:iam::${local.account_id}:role/${var.name_prefix}-${function}-role"
    ]
  }
  tags = var.tags
}

module "network" {
  source = "../network"

  name        = var.name_prefix
  kms_key_arn = module.kms.logs_key_arn
  cidr_block  = var.vpc_cidr_block
  az_count    = var.az_count
  # The acquirer tier, for process_payment, reconcile and settle with the http connector.
  acquirer_egress = var.acquirer_egress
  tags            = var.tags
}

module "audit" {
  source = "../audit"

  name        = var.name_prefix
  kms_key_arn = module.kms.logs_key_arn
  # Only the vault holds card data: CloudTrail records data events for its table and functions
  # (see docs/decisions/0005-log-levels-vs-pci-dss-10-2.md); the other tables hold tokens.
  data_event_dynamodb_table_arns   = [module.vault.table_arn]
  data_event_lambda_function_arns  = [for f in module.vault.functions : f.function_arn]
  cloudwatch_log_retention_in_days = var.log_retention_days
  force_destroy                    = var.audit_force_destroy
  object_lock_mode                 = var.audit_object_lock.mode
  object_lock_retention_days       = var.audit_object_lock.retention_days
  alarm_subscriptions              = var.alarm_subscriptions
  tags                             = var.tags
}

module "payment_workflow" {
  source = "../payment_workflow"

  name_prefix         = var.name_prefix
  environment         = var.environment
  lambda_package      = var.lambda_package
  lambda_runtime      = var.lambda_runtime
  log_level           = var.log_level
  workflow_log_level  = var.workflow_log_level
  log_retention_days  = var.log_retention_days
  data_kms_key_arn    = module.kms.application_key_arn
  logs_kms_key_arn    = module.kms.logs_key_arn
  vpc_config          = local.cde_vpc_config
  alarm_sns_topic_arn = module.audit.alarm_topic_arn
  deletion_protection = var.deletion_protection

  tokenize_function_arn    = local.vault_functions.tokenize.function_arn
  tokenize_function_name   = local.vault_functions.tokenize.function_name
  tokenize_invoke_arn      = local.vault_functions.tokenize.invoke_arn
  detokenize_function_name = local.vault_functions.detokenize.function_name
  detokenize_invoke_arn    = local.vault_functions.detokenize.invoke_arn

  max_amount_eur                 = var.max_amount_eur
  max_amount_minor_overrides     = var.max_amount_minor_overrides
  merchant_authorizer            = local.merchant_authorizer
  eur_rates                      = var.eur_rates
  fraud_rules                    = var.fraud_rules
  ip_country_ranges              = var.ip_country_ranges
  issuer_country_prefixes        = var.issuer_country_prefixes
  sca_tra_fraud_rate_percent     = var.sca_tra_fraud_rate_percent
  acquirer_timeout_ms            = var.acquirer_timeout_ms
  ledger_shards                  = var.ledger_shards
  authorization_validity_days    = var.authorization_validity_days
  reconcile_schedule_expression  = var.reconcile_schedule_expression
  reconcile_repair               = var.reconcile_repair
  settlement_schedule_expression = var.settlement_schedule_expression
  merchant_service_charge        = var.merchant_service_charge
  api_rate_limit_per_second      = local.api_rate_limit_per_second
  waf_rate_limit_per_5_minutes   = local.waf_rate_limit_per_5_minutes
  reserved_concurrency = {
    for fn in ["payments_api", "assess_risk", "process_payment", "reconcile", "settle"] : fn => local.reserved_concurrency[fn]
  }

  # Who refuses a bad body: the functions (naming the field) or API Gateway first (ADR 0011).
  request_body_validation = var.request_body_validation
  # The custom domain with TLS 1.2 (null: the default execute-api endpoint, see the README).
  api_domain_name     = var.api_domain_name
  api_certificate_arn = var.api_certificate_arn
  # Per-merchant rate limits: a usage plan per tier (ADR 0008).
  merchant_usage_plans = var.merchant_usage_plans
  # The SLO alarms and the dashboard's objective lines (attributes left null: the module's).
  slo = var.slo

  credit   = local.credit_functions
  webhooks = local.webhook_functions

  fraud_stream = {
    feature_table_name    = local.fraud_tables.features
    block_list_table_name = local.fraud_tables.block_list
    model_mode            = var.fraud_model_mode
  }

  # prod refuses the simulated acquirer and 3-D Secure server unless this says otherwise.
  allow_simulated_card_network_in_prod = var.allow_simulated_card_network_in_prod
  acquirer_connector                   = var.acquirer_connector
  acquirer_http                        = var.acquirer_http
  acquirer_vpc_config = var.acquirer_egress.mode == "none" ? null : {
    subnet_ids         = module.network.acquirer_subnet_ids
    security_group_ids = [module.network.acquirer_security_group_id]
  }

  tags = local.cde_tags
}
