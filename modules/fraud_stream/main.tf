# The payment event stream: two EventBridge rules on the payment bus copy into an on-demand
# Kinesis stream, encrypted with the application key,
#   payments: payment.authorized, payment.declined (the attempts the fraud features count),
#             payment.captured and payment.refunded (the data lake's settlement and refund
#             queries), partitioned by the platform card key, so one card's events stay in order
#             on one shard;
#   alerts:   fraud.alert from blueprint.fraud (the lake's alert-rate query), partitioned by the
#             alert id (an alert has no card key).
# Only the event's detail goes onto the stream (InputPath $.detail): the documented,
# schema-checked fields of functions/contracts/events.py (card key, BIN, last four, device, IP,
# countries, EUR amount; an alert's subject, typology and score), never a card number: both
# contracts refuse a detail holding one before it is published. The consumer counts attempts and
# ignores the rest.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id

  stream_name   = "${var.name_prefix}-payment-stream"
  consumer_name = "${var.name_prefix}-fraud-stream"
  event_source  = "blueprint.payments"
  alert_source  = "blueprint.fraud"
  # What goes onto the stream, by rule: source, detail-types, the partition key.
  stream_rules = {
    payments = {
      source             = local.event_source
      detail_types       = ["payment.authorized", "payment.declined", "payment.captured", "payment.refunded"]
      partition_key_path = "$.detail.platform_card_key"
    }
    alerts = {
      source             = local.alert_source
      detail_types       = ["fraud.alert"]
      partition_key_path = "$.detail.alert_id"
    }
  }
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

resource "aws_cloudwatch_event_rule" "to_stream" {
  for_each = local.stream_rules

  name           = "${var.name_prefix}-${each.key}-to-stream"
  description    = "${join(", ", each.value.detail_types)} from ${each.value.source} onto ${local.stream_name} (fraud stream, data lake)."
  event_bus_name = var.event_bus.name
  event_pattern = jsonencode({
    source        = [each.value.source]
    "detail-type" = each.value.detail_types
  })

  tags = local.tags
}

resource "aws_cloudwatch_event_target" "to_stream" {
  for_each = local.stream_rules

  rule           = aws_cloudwatch_event_rule.to_stream[each.key].name
  event_bus_name = var.event_bus.name
  target_id      = "payment-stream"
  arn            = aws_kinesis_stream.this.arn
  role_arn       = aws_iam_role.events_to_stream.arn
  # The detail alone: EventBridge's envelope adds nothing the consumers read.
  input_path = "$.detail"

  dynamic "dead_letter_config" {
    for_each = var.event_bus.dead_letter_queue_arn == null ? [] : [var.event_bus.dead_letter_queue_arn]

    content {
      arn = dead_letter_config.value
    }
  }

  kinesis_target {
    partition_key_path = each.value.partition_key_path
  }
}

moved {
  from = aws_cloudwatch_event_rule.attempts
  to   = aws_cloudwatch_event_rule.to_stream["payments"]
}

moved {
  from = aws_cloudwatch_event_target.stream
  to   = aws_cloudwatch_event_target.to_stream["payments"]
}
