# Money invariants the functions report in their own logs, one metric filter and one alarm
# each, alarmed on the first occurrence:
#
# * ledger_posting_failed: a capture or refund whose journal entry could not be posted does not
#   fail the payment (the acquirer has moved the money; the reconciliation posts the missing
#   entry on its next run), but it must never pass unnoticed: process_payment logs it at ERROR
#   with `ledger_alarm = "posting_failed"`.
# * settlement_waiting: a settlement batch the ledger cannot book yet (a line it holds no entry
#   for, or one already settled by another batch) is money received and not accounted for.
# * tra_fraud_rate: the settle run's TRA monitoring found a band above its reference fraud rate
#   (RTS Art. 20(1): report at once) or due a restart notification (Art. 20(4));
#   docs/sca-policy.md.

locals {
  ledger_metric_namespace = "${var.name_prefix}/ledger"

  invariant_alarms = {
    ledger_posting_failed = {
      function    = "process_payment"
      pattern     = "{ $.ledger_alarm = \"posting_failed\" }"
      metric      = "LedgerPostingFailed"
      description = "A capture or refund succeeded at the acquirer without its journal entry; run reconcile (it posts the missing entry) and find out why the ledger write failed."
    }
    settlement_waiting = {
      function    = "settle"
      pattern     = "{ $.settlement_alarm = \"waiting\" }"
      metric      = "SettlementWaiting"
      description = "An acquirer settlement batch could not be booked (a line without its ledger entry, or settled twice); run reconcile, then settle, and read the settle log."
    }
    tra_fraud_rate = {
      function    = "settle"
      pattern     = "{ ($.tra_alarm = \"exceeded\") || ($.tra_alarm = \"restart_due\") }"
      metric      = "TraFraudRate"
      description = "The monitored TRA fraud rate exceeded a band's reference rate (TRA stopped in that band; report it to the competent authority, RTS Art. 20(1)) or a stopped band is due a restart notification (Art. 20(4)); read the art20 record in the settle log."
    }
  }
}

resource "aws_cloudwatch_log_metric_filter" "invariant" {
  for_each = local.invariant_alarms

  name           = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  log_group_name = module.step[each.value.function].log_group_name
  pattern        = each.value.pattern

  metric_transformation {
    name          = each.value.metric
    namespace     = local.ledger_metric_namespace
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "invariant" {
  for_each = local.invariant_alarms

  alarm_name          = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = local.ledger_metric_namespace
  metric_name         = aws_cloudwatch_log_metric_filter.invariant[each.key].metric_transformation[0].name
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

# The two alarms that were resources of their own keep their state (no destroy and create).
moved {
  from = aws_cloudwatch_log_metric_filter.ledger_posting_failed
  to   = aws_cloudwatch_log_metric_filter.invariant["ledger_posting_failed"]
}

moved {
  from = aws_cloudwatch_metric_alarm.ledger_posting_failed
  to   = aws_cloudwatch_metric_alarm.invariant["ledger_posting_failed"]
}

moved {
  from = aws_cloudwatch_log_metric_filter.settlement_waiting
  to   = aws_cloudwatch_log_metric_filter.invariant["settlement_waiting"]
}

moved {
  from = aws_cloudwatch_metric_alarm.settlement_waiting
  to   = aws_cloudwatch_metric_alarm.invariant["settlement_waiting"]
}

# The reconciliation's own metrics (functions.handlers.reconcile, Powertools EMF: one per
# mismatch kind, the total, payments left stuck authorizing, and how far behind now the last
# run reached). A scheduled run reports and alarms; it repairs only with reconcile_repair.
locals {
  reconcile_alarms = {
    reconcile_mismatches = {
      metric      = "mismatches"
      threshold   = 1
      period      = 3600
      description = "The reconciliation found payments, ledger, events or the acquirer's record disagreeing (one metric per kind beside this total). Read the run's answer (make reconcile, or invoke the function with {\"repair\": false}), then repair by hand with {\"repair\": true} what is safe."
    }
    reconcile_stuck = {
      metric      = "stuck_authorizations"
      threshold   = 1
      period      = 3600
      description = "Payments are left authorizing beyond an Express execution's lifetime; a repair run voids them by their authorization key unless the acquirer took their capture."
    }
    # Three hours behind: the hourly run has not kept up (or failed) for two runs.
    reconcile_behind = {
      metric      = "lag_seconds"
      threshold   = 10800
      period      = 3600
      description = "The scheduled reconciliation is more than three hours behind: runs stop at their time budget (raise the timeout) or fail (the on-failure queue, the function's log)."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "reconcile" {
  for_each = local.reconcile_alarms

  alarm_name          = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = local.ledger_metric_namespace
  metric_name         = each.value.metric
  dimensions          = { service = local.function_settings.reconcile.service }
  statistic           = "Maximum"
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
  ok_actions          = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

  tags = var.tags
}
