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
