# The consumer: functions/handlers/fraud_stream.py through lambda_function, on an event source
# mapping that reports partial batch failures, bisects a failing batch, retries a bounded number
# of times and then sends the batch's description (shard and sequence numbers, never the
# records) to the function's encrypted failure queue.

locals {
  consumer_environment = {
    PAYMENTS_ENVIRONMENT        = var.environment
    FRAUD_FEATURE_TABLE_NAME    = aws_dynamodb_table.this["features"].name
    FRAUD_BLOCK_LIST_TABLE_NAME = aws_dynamodb_table.this["block_list"].name
    EVENT_BUS_NAME              = var.event_bus.name
    FRAUD_ALERTING              = jsonencode(var.alerting)
  }
}

module "consumer" {
  source = "../lambda_function"

  name                           = local.consumer_name
  description                    = "Fraud stream consumer: windowed velocity counters, fraud.alert events and the block list."
  filename                       = var.lambda_package
  handler                        = "functions.handlers.fraud_stream.handler"
  runtime                        = var.lambda_runtime
  memory_size                    = var.consumer.memory_size
  timeout                        = var.consumer.timeout
  reserved_concurrent_executions = var.consumer.reserved_concurrency
  kms_key_arn                    = var.data_kms_key_arn
  log_kms_key_arn                = var.logs_kms_key_arn
  log_retention_in_days          = var.log_retention_days
  vpc_config                     = var.vpc_config
  alarm_sns_topic_arn            = var.alarm_sns_topic_arn
  policy_statements              = local.consumer_statements

  powertools = {
    service_name = "fraud-stream"
    log_level    = var.log_level
  }
  environment_variables = local.consumer_environment

  tags = local.tags
}

resource "aws_lambda_event_source_mapping" "stream" {
  event_source_arn                   = aws_kinesis_stream.this.arn
  function_name                      = module.consumer.function_arn
  starting_position                  = var.consumer.starting_position
  batch_size                         = var.consumer.batch_size
  maximum_batching_window_in_seconds = var.consumer.maximum_batching_window_in_seconds
  maximum_retry_attempts             = var.consumer.maximum_retry_attempts
  maximum_record_age_in_seconds      = var.consumer.maximum_record_age_in_seconds
  parallelization_factor             = var.consumer.parallelization_factor
  bisect_batch_on_function_error     = true
  function_response_types            = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = module.consumer.failure_queue_arn
    }
  }

  tags = local.tags
}
