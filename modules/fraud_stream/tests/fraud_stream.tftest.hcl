# Unit tests: plan only, against a mocked AWS provider. They assert what protects the stream:
# encryption with the customer key everywhere, bounded retries with bisection and an
# on-failure queue, only the event's detail onto the stream, least privilege per principal, TTL
# on both tables, the alert-rate alarm; and that bad inputs are refused.

mock_provider "aws" {
  override_during = plan

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "111122223333" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  override_data {
    target = data.aws_region.current
    values = { id = "eu-west-1", name = "eu-west-1" }
  }
  override_resource {
    target = aws_kinesis_stream.this
    values = { arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/pay-payment-stream" }
  }
  override_resource {
    target = aws_dynamodb_table.this["features"]
    values = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-fraud-features" }
  }
  override_resource {
    target = aws_dynamodb_table.this["block_list"]
    values = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-fraud-block-list" }
  }
  override_resource {
    target = aws_cloudwatch_event_rule.to_stream["payments"]
    values = { arn = "arn:aws:events:eu-west-1:111122223333:rule/pay-payments/pay-payments-to-stream" }
  }
  override_resource {
    target = aws_cloudwatch_event_rule.to_stream["alerts"]
    values = { arn = "arn:aws:events:eu-west-1:111122223333:rule/pay-payments/pay-alerts-to-stream" }
  }
  override_resource {
    target = aws_iam_role.events_to_stream
    values = { arn = "arn:aws:iam::111122223333:role/pay-events-to-stream" }
  }
  override_resource {
    target = module.consumer.aws_lambda_function.this
    values = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:pay-fraud-stream" }
  }
  override_resource {
    target = module.consumer.aws_sqs_queue.failures
    values = { arn = "arn:aws:sqs:eu-west-1:111122223333:pay-fraud-stream-failures" }
  }
  override_resource {
    target = module.consumer.aws_cloudwatch_log_group.this
    values = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/pay-fraud-stream" }
  }
  override_resource {
    target = module.consumer.aws_iam_role.this
    values = { arn = "arn:aws:iam::111122223333:role/pay-fraud-stream-role" }
  }
}

variables {
  name_prefix      = "pay"
  environment      = "dev"
  lambda_package   = "tests/fixtures/package.py"
  data_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  logs_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/66666666-7777-8888-9999-000000000000"
  event_bus = {
    name                  = "pay-payments"
    arn                   = "arn:aws:events:eu-west-1:111122223333:event-bus/pay-payments"
    dead_letter_queue_arn = "arn:aws:sqs:eu-west-1:111122223333:pay-payments-dlq"
  }
  vpc_config = {
    subnet_ids         = ["subnet-a", "subnet-b"]
    security_group_ids = ["sg-1"]
  }
  hot_path_readers = { assess_risk = "pay-assess-risk-role" }
}

run "the_module_with_its_defaults" {
  command = plan

  # --- the stream
  assert {
    condition     = alltrue([for t in aws_cloudwatch_event_target.to_stream : one(t.dead_letter_config).arn == "arn:aws:sqs:eu-west-1:111122223333:pay-payments-dlq"])
    error_message = "Events a rule could not put on the stream go to the payment bus's dead-letter queue."
  }

  assert {
    condition     = aws_kinesis_stream.this.stream_mode_details[0].stream_mode == "ON_DEMAND"
    error_message = "the stream must be on demand"
  }
  assert {
    condition     = aws_kinesis_stream.this.encryption_type == "KMS" && aws_kinesis_stream.this.kms_key_id == var.data_kms_key_arn
    error_message = "the stream must be encrypted with the customer key"
  }
  assert {
    condition     = aws_kinesis_stream.this.retention_period == 24
    error_message = "the stream keeps records 24 hours by default"
  }

  # --- only the documented detail of the payment events and alerts the consumers read goes onto it
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.to_stream["payments"].event_pattern)["detail-type"] == ["payment.authorized", "payment.declined", "payment.captured", "payment.refunded"] && jsondecode(aws_cloudwatch_event_rule.to_stream["payments"].event_pattern).source == ["blueprint.payments"]
    error_message = "the payments rule must take the attempts, captures and refunds of blueprint.payments only"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.to_stream["alerts"].event_pattern) == { source = ["blueprint.fraud"], "detail-type" = ["fraud.alert"] }
    error_message = "the alerts rule must take fraud.alert from blueprint.fraud only"
  }
  assert {
    condition     = alltrue([for t in aws_cloudwatch_event_target.to_stream : t.input_path == "$.detail"]) && aws_cloudwatch_event_target.to_stream["payments"].kinesis_target[0].partition_key_path == "$.detail.platform_card_key" && aws_cloudwatch_event_target.to_stream["alerts"].kinesis_target[0].partition_key_path == "$.detail.alert_id"
    error_message = "the targets must send the detail alone, payments partitioned by card (one card's events in order on one shard), alerts by alert id"
  }
  assert {
    condition     = toset(jsondecode(aws_iam_role.events_to_stream.assume_role_policy).Statement[0].Condition.ArnEquals["aws:SourceArn"]) == toset([aws_cloudwatch_event_rule.to_stream["payments"].arn, aws_cloudwatch_event_rule.to_stream["alerts"].arn])
    error_message = "only the two rules may assume the role that writes the stream"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.events_to_stream.policy).Statement[1].Condition.StringEquals == {
      "kms:ViaService"                        = "kinesis.eu-west-1.amazonaws.com"
      "kms:EncryptionContext:aws:kinesis:arn" = "arn:aws:kinesis:eu-west-1:111122223333:stream/pay-payment-stream"
    }
    error_message = "EventBridge may use the key only through Kinesis for this stream"
  }

  # --- the consumer's mapping: partial failures, bisection, bounded retries, a destination
  assert {
    condition     = aws_lambda_event_source_mapping.stream.function_response_types == toset(["ReportBatchItemFailures"]) && aws_lambda_event_source_mapping.stream.bisect_batch_on_function_error
    error_message = "the mapping must report item failures and bisect failing batches"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.stream.maximum_retry_attempts == 3 && aws_lambda_event_source_mapping.stream.maximum_record_age_in_seconds == 3600
    error_message = "retries must be bounded by default"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.stream.batch_size == 100 && aws_lambda_event_source_mapping.stream.parallelization_factor == 1
    error_message = "the mapping takes 100 records a batch, one batch per shard at a time, by default"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.stream.destination_config[0].on_failure[0].destination_arn == "arn:aws:sqs:eu-west-1:111122223333:pay-fraud-stream-failures"
    error_message = "exhausted batches must go to the consumer's encrypted failure queue"
  }
  assert {
    condition     = module.consumer.failure_queue_arn != null
    error_message = "the consumer keeps a failure queue (its records hold no card number)"
  }

  # --- tables: customer key, TTL, recovery
  assert {
    condition = alltrue([for t in aws_dynamodb_table.this :
    t.server_side_encryption[0].enabled && t.server_side_encryption[0].kms_key_arn == var.data_kms_key_arn])
    error_message = "both tables must be encrypted with the customer key"
  }
  assert {
    condition = alltrue([for t in aws_dynamodb_table.this :
    t.ttl[0].enabled && t.ttl[0].attribute_name == "expires_at" && t.point_in_time_recovery[0].enabled])
    error_message = "both tables need TTL on expires_at and point-in-time recovery"
  }

  # --- least privilege
  assert {
    condition = alltrue(flatten([for s in local.consumer_statements : [
      for a in s.actions : !endswith(a, ":*") && a != "*"
    ]]))
    error_message = "no wildcard action for the consumer"
  }
  assert {
    condition = one([for s in local.consumer_statements : s if s.sid == "PublishFraudAlerts"]).conditions == [
      { test = "StringEquals", variable = "events:source", values = ["blueprint.fraud"] },
      { test = "StringEquals", variable = "events:detail-type", values = ["fraud.alert"] },
    ]
    error_message = "the consumer may publish fraud.alert from blueprint.fraud only"
  }
  assert {
    condition     = alltrue([for s in local.consumer_statements : s.conditions != null && length(s.conditions) > 0 if anytrue([for a in s.actions : startswith(a, "kms:")])])
    error_message = "every key grant of the consumer names its service and context"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.hot_path_read["assess_risk"].policy).Statement[0].Action == ["dynamodb:BatchGetItem", "dynamodb:GetItem"]
    error_message = "the hot path only reads the block list and the features"
  }

  # --- what it holds: payment metadata, never card data
  assert {
    condition     = alltrue([for t in [aws_kinesis_stream.this.tags, aws_dynamodb_table.this["features"].tags, aws_dynamodb_table.this["block_list"].tags] : t["DataClass"] == "payment-metadata"])
    error_message = "the stream and its tables are tagged payment-metadata (card keys, BIN, last four; no card number)"
  }

  # --- the alert-rate alarm
  assert {
    condition     = aws_cloudwatch_metric_alarm.alert_rate.threshold == 20 && aws_cloudwatch_log_metric_filter.alerts.pattern == "{ $.fraud_alert = \"raised\" }"
    error_message = "the alert rate must be alarmed from the consumer's alert log lines"
  }
  assert {
    condition     = jsondecode(local.consumer_environment.FRAUD_ALERTING).block_ttl_seconds == 86400
    error_message = "the alerting settings reach the consumer"
  }
}

run "the_batch_size_is_set_on_the_mapping" {
  command = plan

  variables {
    consumer = { batch_size = 500 }
  }

  assert {
    condition     = aws_lambda_event_source_mapping.stream.batch_size == 500
    error_message = "consumer.batch_size must reach the event source mapping"
  }
}

run "a_batch_size_out_of_range_is_refused" {
  command = plan

  variables {
    consumer = { batch_size = 10001 }
  }

  expect_failures = [var.consumer]
}

run "a_fractional_batch_size_is_refused" {
  command = plan

  variables {
    consumer = { batch_size = 2.5 }
  }

  expect_failures = [var.consumer]
}

run "parallel_batches_per_shard_are_refused" {
  # The per-shard sequence marks need a shard's records in order.
  command = plan

  variables {
    consumer = { parallelization_factor = 2 }
  }

  expect_failures = [var.consumer]
}

run "bad_values_are_refused" {
  command = plan

  variables {
    name_prefix      = "Pay_Prefix"
    data_kms_key_arn = "alias/aws/kinesis"
    stream           = { retention_hours = 12 }
    consumer = {
      maximum_retry_attempts        = -1
      maximum_record_age_in_seconds = -1
      starting_position             = "AT_TIMESTAMP"
      reserved_concurrency          = 0
    }
    alerting = { cards_per_device_1h = 1, block_ttl_seconds = 10 }
  }

  expect_failures = [
    var.name_prefix,
    var.data_kms_key_arn,
    var.stream,
    var.consumer,
    var.alerting,
  ]
}
