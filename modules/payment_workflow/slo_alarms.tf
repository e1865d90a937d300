# Service-level alarms of the Payment API and the payment outcomes, per environment: the
# thresholds are var.slo (platform's slo, set in each environment's tfvars). Four alarms:
#
# * availability: the share of API requests answered 5xx, over each period, above what the
#   availability objective allows (99.9% allows 0.1%);
# * latency: API Gateway's p99 latency of a period above latency_p99_ms;
# * approval rate: approved / (approved + declined) payments below approval_rate_min_percent, the
#   sign of an acquirer or issuer outage, a broken integration or a fraud rule gone wrong;
# * fraud blocks: the share of assessed payments the fraud step blocks above
#   fraud_block_max_percent: an attack (card testing) or a bad model or rule release. The
#   stream's own alert count alarms in modules/fraud_stream (alert_rate_alarm_threshold).
#
# The outcome metrics are the steps' EMF lines (functions/domain/payment_metrics.py, namespace
# <prefix>/payments). A ratio is judged only on periods with at least min_requests requests or
# min_payments payments: at night, one decline out of two is no drop in approvals. Missing data
# (no traffic) is not breaching.

variable "slo" {
  description = "Service-level objectives and alarm thresholds: availability_percent (the share of API requests not answered 5xx), latency_p99_ms (API Gateway's p99 over a period), approval_rate_min_percent (approved over approved plus declined payments), fraud_block_max_percent (payments the fraud step blocks over those it assessed); a ratio alarms only on periods with at least min_requests API requests or min_payments payments; each alarm fires after evaluation_periods breaching periods of period_seconds."
  type = object({
    availability_percent      = optional(number, 99.9)
    latency_p99_ms            = optional(number, 3000)
    approval_rate_min_percent = optional(number, 60)
    fraud_block_max_percent   = optional(number, 5)
    min_requests              = optional(number, 50)
    min_payments              = optional(number, 20)
    period_seconds            = optional(number, 300)
    evaluation_periods        = optional(number, 3)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.slo.availability_percent >= 90 && var.slo.availability_percent < 100
    error_message = "slo.availability_percent must be at least 90 and below 100 (100% leaves no error budget: every 5xx would alarm); 99.9 is three nines."
  }
  validation {
    # API Gateway's integration timeout is 29 s: a p99 above it cannot be measured.
    condition     = var.slo.latency_p99_ms >= 100 && var.slo.latency_p99_ms <= 29000
    error_message = "slo.latency_p99_ms must be between 100 and 29000 (API Gateway's integration timeout)."
  }
  validation {
    condition     = var.slo.approval_rate_min_percent > 0 && var.slo.approval_rate_min_percent < 100
    error_message = "slo.approval_rate_min_percent must be above 0 and below 100: set it under the approval rate the environment normally sees (card-not-present approvals are typically 80-90%)."
  }
  validation {
    condition     = var.slo.fraud_block_max_percent > 0 && var.slo.fraud_block_max_percent <= 50
    error_message = "slo.fraud_block_max_percent must be above 0 and at most 50."
  }
  validation {
    condition     = var.slo.min_requests >= 1 && var.slo.min_payments >= 1 && floor(var.slo.min_requests) == var.slo.min_requests && floor(var.slo.min_payments) == var.slo.min_payments
    error_message = "slo.min_requests and slo.min_payments must be whole numbers of at least 1."
  }
  validation {
    # CloudWatch alarms on standard-resolution metrics take periods that are multiples of 60 s.
    condition     = var.slo.period_seconds >= 60 && var.slo.period_seconds <= 3600 && var.slo.period_seconds % 60 == 0
    error_message = "slo.period_seconds must be a multiple of 60 between 60 and 3600."
  }
  validation {
    condition     = var.slo.evaluation_periods >= 1 && var.slo.evaluation_periods <= 24 && floor(var.slo.evaluation_periods) == var.slo.evaluation_periods
    error_message = "slo.evaluation_periods must be a whole number from 1 to 24."
  }
}

locals {
  payment_metric_namespace = "${var.name_prefix}/payments"
  # The hot-path steps' outcome and latency metrics in their own namespace; reconcile's (one
  # per mismatch kind) and settle's stay beside the ledger's invariants (alarms.tf).
  step_metrics_namespace = {
    for key in keys(local.step_functions) : key => (
      contains(["assess_risk", "process_payment"], key) ? local.payment_metric_namespace : local.ledger_metric_namespace
    )
  }

  api_dimensions = {
    ApiName = aws_api_gateway_rest_api.this.name
    Stage   = aws_api_gateway_stage.v1.stage_name
  }
  process_dimensions = { service = local.function_settings.process_payment.service }
  assess_dimensions  = { service = local.function_settings.assess_risk.service }

  # Each ratio alarm: its metrics (id => namespace, name, dimensions) and the expression
  # compared with its threshold. FILL: a count a period lacks (nothing happened) is 0.
  slo_ratio_alarms = {
    availability = {
      description = "More than ${100 - var.slo.availability_percent}% of the Payment API's requests were answered 5xx (objective: ${var.slo.availability_percent}% available). Read the 5xx in the API access log and the functions' errors on the dashboard ${local.dashboard_name}."
      threshold   = 100 - var.slo.availability_percent
      operator    = "GreaterThanThreshold"
      expression  = "IF(FILL(requests, 0) >= ${var.slo.min_requests}, 100 * FILL(errors, 0) / requests, 0)"
      label       = "5xx share of API requests (%)"
      metrics = {
        requests = { namespace = "AWS/ApiGateway", name = "Count", dimensions = local.api_dimensions }
        errors   = { namespace = "AWS/ApiGateway", name = "5XXError", dimensions = local.api_dimensions }
      }
    }
    approval_rate = {
      description = "Fewer than ${var.slo.approval_rate_min_percent}% of decided payments were approved: an acquirer or issuer outage, a broken integration, or a fraud rule or model release blocking good payments. Read the declines by code on the dashboard ${local.dashboard_name}."
      threshold   = var.slo.approval_rate_min_percent
      operator    = "LessThanThreshold"
      expression  = "IF(FILL(approved, 0) + FILL(declined, 0) >= ${var.slo.min_payments}, 100 * FILL(approved, 0) / (FILL(approved, 0) + FILL(declined, 0)), 100)"
      label       = "approved share of decided payments (%)"
      metrics = {
        approved = { namespace = local.payment_metric_namespace, name = "PaymentsApproved", dimensions = local.process_dimensions }
        declined = { namespace = local.payment_metric_namespace, name = "PaymentsDeclined", dimensions = local.process_dimensions }
      }
    }
    fraud_blocks = {
      description = "More than ${var.slo.fraud_block_max_percent}% of assessed payments were blocked by the fraud step: card testing or another attack in progress, or a fraud rule or model release gone wrong. Read the fraud.alert events and the block list (docs/models/fraud.md)."
      threshold   = var.slo.fraud_block_max_percent
      operator    = "GreaterThanThreshold"
      expression  = "IF(FILL(assessed, 0) >= ${var.slo.min_payments}, 100 * FILL(blocked, 0) / assessed, 0)"
      label       = "blocked share of assessed payments (%)"
      metrics = {
        assessed = { namespace = local.payment_metric_namespace, name = "PaymentsAssessed", dimensions = local.assess_dimensions }
        blocked  = { namespace = local.payment_metric_namespace, name = "FraudBlocked", dimensions = local.assess_dimensions }
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "slo" {
  for_each = local.slo_ratio_alarms

  alarm_name          = "${var.name_prefix}-slo-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  comparison_operator = each.value.operator
  threshold           = each.value.threshold
  evaluation_periods  = var.slo.evaluation_periods
  datapoints_to_alarm = var.slo.evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
  ok_actions          = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

  metric_query {
    id          = "ratio"
    expression  = each.value.expression
    label       = each.value.label
    return_data = true
  }

  dynamic "metric_query" {
    for_each = each.value.metrics

    content {
      id = metric_query.key

      metric {
        namespace   = metric_query.value.namespace
        metric_name = metric_query.value.name
        dimensions  = metric_query.value.dimensions
        period      = var.slo.period_seconds
        stat        = "Sum"
      }
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "slo_latency" {
  alarm_name          = "${var.name_prefix}-slo-latency-p99"
  alarm_description   = "The Payment API's p99 latency was above ${var.slo.latency_p99_ms} ms. Read the step latencies and the workflow's execution time on the dashboard ${local.dashboard_name}."
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = local.api_dimensions
  extended_statistic  = "p99"
  period              = var.slo.period_seconds
  evaluation_periods  = var.slo.evaluation_periods
  datapoints_to_alarm = var.slo.evaluation_periods
  threshold           = var.slo.latency_p99_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
  ok_actions          = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

  tags = var.tags
}
