# The environment's operations dashboard: the Payment API (traffic, errors, latency), the
# payments' outcomes from the steps' EMF metrics (functions/domain/payment_metrics.py), the
# declines by code, fraud blocks and SCA challenges, the steps' latency, the workflow, and the
# SLO alarms of slo_alarms.tf. One dashboard per environment: its name carries the prefix.

locals {
  dashboard_name = "${var.name_prefix}-payments"
  step_services = {
    for key in ["assess_risk", "process_payment"] : key => local.function_settings[key].service
  }
  # The hot path's functions, tokenize (the vault's) included.
  hot_path_functions = {
    tokenize        = var.tokenize_function_name
    assess_risk     = module.step["assess_risk"].function_name
    process_payment = module.step["process_payment"].function_name
    payments_api    = module.payments_api.function_name
  }
  api_metric_dims = ["ApiName", local.api_dimensions.ApiName, "Stage", local.api_dimensions.Stage]

  dashboard_widgets = [
    {
      title   = "Payment API requests and errors"
      metrics = [for name in ["Count", "4XXError", "5XXError"] : concat(["AWS/ApiGateway", name], local.api_metric_dims, [{ stat = "Sum" }])]
    },
    {
      title   = "Payment API latency (ms)"
      metrics = [for stat in ["p50", "p99"] : concat(["AWS/ApiGateway", "Latency"], local.api_metric_dims, [{ stat = stat, label = stat }])]
      annotations = {
        horizontal = [{ label = "SLO p99", value = var.slo.latency_p99_ms }]
      }
    },
    {
      title = "Payments by outcome"
      metrics = [
        for name in ["PaymentsApproved", "PaymentsDeclined", "PaymentsRequiresAction", "PaymentsFailed"] :
        [local.payment_metric_namespace, name, "service", local.step_services.process_payment, { stat = "Sum" }]
      ]
    },
    {
      title = "Approval rate (%)"
      metrics = [
        [{ expression = "100 * FILL(m1, 0) / (FILL(m1, 0) + FILL(m2, 0))", label = "approved %", id = "rate" }],
        [local.payment_metric_namespace, "PaymentsApproved", "service", local.step_services.process_payment, { id = "m1", stat = "Sum", visible = false }],
        [local.payment_metric_namespace, "PaymentsDeclined", "service", local.step_services.process_payment, { id = "m2", stat = "Sum", visible = false }],
      ]
      annotations = {
        horizontal = [{ label = "SLO minimum", value = var.slo.approval_rate_min_percent }]
      }
    },
    {
      title = "Declines by code"
      metrics = [[{
        expression = "SEARCH('{${local.payment_metric_namespace},service,decline_code} MetricName=\"Declines\"', 'Sum', ${var.slo.period_seconds})"
        label      = ""
        id         = "declines"
      }]]
    },
    {
      title = "Fraud blocks, reviews and SCA"
      metrics = [
        for name in ["PaymentsAssessed", "FraudBlocked", "FraudReview", "ScaChallenges", "ScaExemptions"] :
        [local.payment_metric_namespace, name, "service", local.step_services.assess_risk, { stat = "Sum" }]
      ]
    },
    {
      title = "Step latency p99 (ms): the steps' own work"
      metrics = [
        for key, service in local.step_services :
        [local.payment_metric_namespace, "StepLatency", "service", service, { stat = "p99", label = key }]
      ]
    },
    {
      title = "Hot-path functions: duration p99 (ms)"
      metrics = [
        for key, name in local.hot_path_functions :
        ["AWS/Lambda", "Duration", "FunctionName", name, { stat = "p99", label = key }]
      ]
    },
    {
      title = "Hot-path functions: errors and throttles"
      metrics = flatten([
        for key, name in local.hot_path_functions : [
          ["AWS/Lambda", "Errors", "FunctionName", name, { stat = "Sum", label = "${key} errors" }],
          ["AWS/Lambda", "Throttles", "FunctionName", name, { stat = "Sum", label = "${key} throttles" }],
        ]
      ])
    },
    {
      title = "Payment workflow executions"
      metrics = [
        for name in ["ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"] :
        ["AWS/States", name, "StateMachineArn", aws_sfn_state_machine.payment.arn, { stat = "Sum" }]
      ]
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({
    widgets = concat(
      [
        {
          type   = "alarm"
          x      = 0
          y      = 0
          width  = 24
          height = 3
          properties = {
            title  = "Service-level objectives"
            alarms = concat([for a in aws_cloudwatch_metric_alarm.slo : a.arn], [aws_cloudwatch_metric_alarm.slo_latency.arn])
          }
        },
      ],
      [
        for i, widget in local.dashboard_widgets : {
          type   = "metric"
          x      = (i % 2) * 12
          y      = 3 + floor(i / 2) * 6
          width  = 12
          height = 6
          properties = merge(
            {
              title   = widget.title
              region  = data.aws_region.current.id
              view    = "timeSeries"
              stacked = false
              period  = var.slo.period_seconds
              metrics = widget.metrics
            },
            try({ annotations = widget.annotations }, {}),
          )
        }
      ],
    )
  })
}
