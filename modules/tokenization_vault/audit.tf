# Detokenization audit trail: every detokenize (allowed, denied or failed), erasure and rewrap
# is written by the functions as one JSON line to this log group (the record, PCI DSS 10.2 and
# 10.5.1) and, when audit_event_bus_name names one, as one event on that bus (a real-time feed
# for the caller's SIEM and its rules). The module used to create a bus of its own that nothing
# consumed: every event was dropped, and each detokenize still waited on, and failed with,
# PutEvents. The alarms below read the log group, so alerting needs no bus.

locals {
  audit_event_bus_name = var.audit_event_bus_name
  audit_event_bus_arn  = var.audit_event_bus_name == null ? null : "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${var.audit_event_bus_name}"
  alarm_actions        = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
}

resource "aws_cloudwatch_log_group" "audit" {
  name              = "/payments/${var.name}/vault-audit"
  retention_in_days = var.audit_log_retention_in_days
  kms_key_id        = var.logs_kms_key_arn

  tags = merge(var.tags, { DataClass = "audit-logs" })
}

# The bus this module used to create (see above): destroyed, since no rule ever read it.
removed {
  from = aws_cloudwatch_event_bus.audit

  lifecycle {
    destroy = true
  }
}
