# Detokenization audit trail: every detokenize (allowed, denied or failed), erasure and rewrap
# is written by the functions as one JSON line to this log group and as one event on the bus.

locals {
  audit_event_bus_name = var.audit_event_bus_name == null ? aws_cloudwatch_event_bus.audit[0].name : var.audit_event_bus_name
  audit_event_bus_arn  = "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${local.audit_event_bus_name}"
  alarm_actions        = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
}

resource "aws_cloudwatch_log_group" "audit" {
  name              = "/payments/${var.name}/vault-audit"
  retention_in_days = var.audit_log_retention_in_days
  kms_key_id        = var.logs_kms_key_arn

  tags = merge(var.tags, { DataClass = "audit-logs" })
}

resource "aws_cloudwatch_event_bus" "audit" {
  count = var.audit_event_bus_name == null ? 1 : 0

  name = "${var.name}-vault-audit"

  tags = merge(var.tags, { DataClass = "audit-logs" })
}

# A denied or failed detokenize is a security event (a caller probing for card data, a
# tampered record): count them and alarm on the first one.
resource "aws_cloudwatch_log_metric_filter" "detokenize_refused" {
  name           = "${var.name}-vault-detokenize-refused"
  log_group_name = aws_cloudwatch_log_group.audit.name
  pattern        = "{ ($.action = \"detokenize\") && ($.outcome != \"success\") }"

  metric_transformation {
    name          = "DetokenizeRefused"
    namespace     = "Payments/Vault/${var.name}"
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "detokenize_refused" {
  alarm_name          = "${var.name}-vault-detokenize-refused"
  alarm_description   = "${var.name}: a detokenize call was denied or failed (see the vault audit log group)."
  namespace           = "Payments/Vault/${var.name}"
  metric_name         = "DetokenizeRefused"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags

  depends_on = [aws_cloudwatch_log_metric_filter.detokenize_refused]
}
