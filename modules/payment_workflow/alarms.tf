# A capture or refund whose journal entry could not be posted does not fail the payment (the
# acquirer has moved the money; the reconciliation posts the missing entry on its next run), but
# it must never pass unnoticed: process_payment logs it at ERROR with
# `ledger_alarm = "posting_failed"`, counted here and alarmed on the first occurrence.

locals {
  ledger_metric_namespace = "${var.name_prefix}/ledger"
}

resource "aws_cloudwatch_log_metric_filter" "ledger_posting_failed" {
  name           = "${var.name_prefix}-ledger-posting-failed"
  log_group_name = module.step["process_payment"].log_group_name
  pattern        = "{ $.ledger_alarm = \"posting_failed\" }"

  metric_transformation {
    name          = "LedgerPostingFailed"
    namespace     = local.ledger_metric_namespace
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "ledger_posting_failed" {
  alarm_name          = "${var.name_prefix}-ledger-posting-failed"
  alarm_description   = "A capture or refund succeeded at the acquirer without its journal entry; run reconcile (it posts the missing entry) and find out why the ledger write failed."
  namespace           = local.ledger_metric_namespace
  metric_name         = aws_cloudwatch_log_metric_filter.ledger_posting_failed.metric_transformation[0].name
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
