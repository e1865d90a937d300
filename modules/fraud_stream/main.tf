# The payment event stream: an EventBridge rule on the payment bus copies every authorization
# attempt (payment.authorized, payment.declined) into an on-demand Kinesis stream encrypted with
# the application key. Only the event's detail goes onto the stream (InputPath $.detail): the
# documented, schema-checked fields of functions/contracts/events.py (card key, BIN, last four,
# device, IP, countries, EUR amount; never a card number). The partition key is the platform card
# key, so one card's attempts stay in order on one shard.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id

  stream_name       = "${var.name_prefix}-payment-stream"
  consumer_name     = "${var.name_prefix}-fraud-stream"
  event_source      = "blueprint.payments"
  alert_source      = "blueprint.fraud"
  attempt_types     = ["payment.authorized", "payment.declined"]
  feature_table     = "${var.name_prefix}-fraud-features"
  block_list_table  = "${var.name_prefix}-fraud-block-list"
  alert_metric_name = "FraudAlerts"
  metric_namespace  = "${var.name_prefix}/fraud"

  # Everything here holds card keys, BINs and last fours, never a card number.
  tags = merge(var.tags, { DataClass = "payment-metadata" })
}

resource "aws_kinesis_stream" "this" {
  name             = local.stream_name
  retention_period = var.stream.retention_hours
  encryption_type  = "KMS"
  kms_key_id       = var.data_kms_key_arn

  stream_mode_details {
    stream_mode = "ON_DEMAND"
  }

  tags = local.tags
}

resource "aws_cloudwatch_event_rule" "attempts" {
  name           = "${var.name_prefix}-payment-attempts-to-stream"
  description    = "Authorization attempts (${join(", ", local.attempt_types)}) onto ${local.stream_name} for the fraud stream."
  event_bus_name = var.event_bus.name
  event_pattern = jsonencode({
    source        = [local.event_source]
    "detail-type" = local.attempt_types
  })

  tags = local.tags
}

resource "aws_cloudwatch_event_target" "stream" {
  rule           = aws_cloudwatch_event_rule.attempts.name
  event_bus_name = var.event_bus.name
  target_id      = "fraud-stream"
  arn            = aws_kinesis_stream.this.arn
  role_arn       = aws_iam_role.events_to_stream.arn
  # The detail alone: EventBridge's envelope adds nothing the consumer reads.
  input_path = "$.detail"

  kinesis_target {
    partition_key_path = "$.detail.platform_card_key"
  }
}
