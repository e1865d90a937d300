# Settlement and payouts (docs/ledger.md): the settle function books the acquirer's settlement
# batches (cash against the receivable, its fees, chargebacks) and pays merchants their settled
# funds, once a day on the account's default bus. It is a function of its own, not a phase of
# reconcile: it runs daily where reconcile runs hourly, needs no access to payments, events or
# the bus, and reconcile needs no right to post payouts.

locals {
  merchant_service_charge_json = (
    length(var.merchant_service_charge.default) == 0 && length(var.merchant_service_charge.merchants) == 0
    ? ""
    : jsonencode(var.merchant_service_charge)
  )

  settle_environment = merge(local.common_env, {
    PAYMENTS_TABLE_NAME = aws_dynamodb_table.payments.name
    LEDGER_TABLE_NAME   = aws_dynamodb_table.ledger.name
    LEDGER_SHARDS       = tostring(var.ledger_shards)
    # The simulator is the settlement source on the emulator (its daily batch).
    ACQUIRER_CONNECTOR  = var.acquirer_connector
    ACQUIRER_TIMEOUT_MS = tostring(var.acquirer_timeout_ms)
  })
}

resource "aws_cloudwatch_event_rule" "settle" {
  count = var.settlement_schedule_expression == null ? 0 : 1

  name                = "${var.name_prefix}-settle"
  description         = "Runs ${module.step["settle"].function_name}: settlement batches, then payouts."
  event_bus_name      = "default"
  schedule_expression = var.settlement_schedule_expression

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "settle" {
  count = var.settlement_schedule_expression == null ? 0 : 1

  rule      = aws_cloudwatch_event_rule.settle[0].name
  target_id = "settle"
  arn       = module.step["settle"].function_arn
}

resource "aws_lambda_permission" "settle_schedule" {
  count = var.settlement_schedule_expression == null ? 0 : 1

  statement_id  = "AllowSettleSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.step["settle"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.settle[0].arn
}

# A batch the ledger cannot book yet (a line it holds no entry for, or one already settled by
# another batch) is money received and not accounted for: alarmed on the first.
resource "aws_cloudwatch_log_metric_filter" "settlement_waiting" {
  name           = "${var.name_prefix}-settlement-waiting"
  log_group_name = module.step["settle"].log_group_name
  pattern        = "{ $.settlement_alarm = \"waiting\" }"

  metric_transformation {
    name          = "SettlementWaiting"
    namespace     = local.ledger_metric_namespace
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "settlement_waiting" {
  alarm_name          = "${var.name_prefix}-settlement-waiting"
  alarm_description   = "An acquirer settlement batch could not be booked (a line without its ledger entry, or settled twice); run reconcile, then settle, and read the settle log."
  namespace           = local.ledger_metric_namespace
  metric_name         = aws_cloudwatch_log_metric_filter.settlement_waiting.metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
  ok_actions          = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

  tags = var.tags
}
