# The fraud stream (modules/fraud_stream): the payment bus's authorization attempts onto Kinesis,
# the consumer's counters, alerts and block list, and the assess step reading them.
#
# payment_workflow gets the two table names as this file spells them, not from the module's
# outputs: fraud_stream reads the bus and the assess role from payment_workflow, and an input
# of payment_workflow that waits on fraud_stream's outputs would leave every input of
# payment_workflow unrendered for the compliance scan (see main.tf). The fraud_stream output
# holds the names to the tables the module creates (a precondition).

locals {
  fraud_tables = {
    features   = "${var.name_prefix}-fraud-features"
    block_list = "${var.name_prefix}-fraud-block-list"
  }
}

module "fraud_stream" {
  source = "../fraud_stream"

  name_prefix         = var.name_prefix
  environment         = var.environment
  lambda_package      = var.lambda_package
  lambda_runtime      = var.lambda_runtime
  log_level           = var.log_level
  log_retention_days  = var.log_retention_days
  data_kms_key_arn    = module.kms.application_key_arn
  logs_kms_key_arn    = module.kms.logs_key_arn
  vpc_config          = local.cde_vpc_config
  alarm_sns_topic_arn = module.audit.alarm_topic_arn
  deletion_protection = var.deletion_protection
  alerting            = var.fraud_alerting
  # Unset keys are null, which the module's optional() defaults replace.
  consumer = merge(var.fraud_stream_consumer, { reserved_concurrency = local.reserved_concurrency.fraud_consumer })

  event_bus = {
    name                  = module.payment_workflow.event_bus_name
    arn                   = module.payment_workflow.event_bus_arn
    dead_letter_queue_arn = module.payment_workflow.event_dead_letter_queue_arn
  }
  # The assess step reads the block list and the features (role named by lambda_function).
  hot_path_readers = {
    assess_risk = element(split("/", module.payment_workflow.functions.assess_risk.role_arn), 1)
  }

  # In the CDE's network; the module tags everything DataClass = payment-metadata (card keys,
  # BINs and last fours, never a card number), so the consumer may keep its failure queue.
  tags = merge(var.tags, { PCIScope = "cde" })
}
