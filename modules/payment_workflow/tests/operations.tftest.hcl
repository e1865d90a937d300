# Unit tests of the operations side (dashboard.tf, slo_alarms.tf): plan only, mocked provider.
# The SLO alarms read the metrics the steps write (their namespace and names are the contract
# with functions/domain/payment_metrics.py), judge ratios only above a minimum volume, alarm to
# the topic, and refuse thresholds that cannot work. Those refusals are in
# payment_workflow.tftest.hcl's bad_values_are_refused_* runs, one slo value each: each run
# starts the provider, so refusals share runs.

mock_provider "aws" {
  override_during = plan

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "111122223333" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  override_data {
    target = data.aws_region.current
    values = { id = "eu-west-1", name = "eu-west-1" }
  }
  override_resource {
    target = aws_sfn_state_machine.payment
    values = { arn = "arn:aws:states:eu-west-1:111122223333:stateMachine:pay-payment" }
  }
  # The dashboard lists the alarms by ARN: known at plan, the body can be read.
  override_resource {
    target = aws_cloudwatch_metric_alarm.slo
    values = { arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:pay-slo" }
  }
  override_resource {
    target = aws_cloudwatch_metric_alarm.slo_latency
    values = { arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:pay-slo-latency-p99" }
  }
  override_resource {
    target = aws_api_gateway_rest_api.this
    values = { execution_arn = "arn:aws:execute-api:eu-west-1:111122223333:abc123" }
  }
  override_resource {
    target = module.payments_api.aws_lambda_function.this
    values = {
      arn        = "arn:aws:lambda:eu-west-1:111122223333:function:pay-payments-api"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:pay-payments-api/invocations"
    }
  }
}

variables {
  name_prefix      = "pay"
  environment      = "dev"
  lambda_package   = "tests/fixtures/package.py"
  data_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333"
  logs_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/44444444-4444-4444-4444-444444444444"
  vpc_config = {
    subnet_ids         = ["subnet-aaaa", "subnet-bbbb"]
    security_group_ids = ["sg-1111"]
  }
  alarm_sns_topic_arn      = "arn:aws:sns:eu-west-1:111122223333:pay-alarms"
  tokenize_function_arn    = "arn:aws:lambda:eu-west-1:111122223333:function:pay-tokenize"
  tokenize_function_name   = "pay-tokenize"
  tokenize_invoke_arn      = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:pay-tokenize/invocations"
  detokenize_function_name = "pay-detokenize"
  detokenize_invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:pay-detokenize/invocations"
  merchant_authorizer = {
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:pay-merchant-authorizer/invocations"
  }
}

run "slo_alarms_read_the_steps_metrics_and_alarm_to_the_topic" {
  command = plan

  variables {
    slo = {
      availability_percent      = 99.5
      latency_p99_ms            = 2500
      approval_rate_min_percent = 70
      fraud_block_max_percent   = 4
      min_payments              = 30
    }
  }

  # --- the hot-path steps write to the environment's payments namespace, the others stay put
  assert {
    condition = local.step_metrics_namespace == {
      assess_risk     = "pay/payments"
      process_payment = "pay/payments"
      reconcile       = "pay/ledger"
      settle          = "pay/ledger"
    }
    error_message = "assess_risk and process_payment emit to <prefix>/payments; reconcile and settle keep <prefix>/ledger, where their alarms read."
  }

  # --- one alarm per objective, each to the alarm topic on alarm and on recovery
  assert {
    condition = (
      toset(keys(aws_cloudwatch_metric_alarm.slo)) == toset(["availability", "approval_rate", "fraud_blocks"]) &&
      alltrue([
        for a in concat(values(aws_cloudwatch_metric_alarm.slo), [aws_cloudwatch_metric_alarm.slo_latency]) :
        a.alarm_actions == toset([var.alarm_sns_topic_arn]) && a.ok_actions == toset([var.alarm_sns_topic_arn]) &&
        a.treat_missing_data == "notBreaching" && a.evaluation_periods == 3 && a.datapoints_to_alarm == 3
      ])
    )
    error_message = "Availability, approval rate, fraud blocks and p99 latency alarm after three breaching periods to the alarm topic, and say when they recover; no traffic is not a breach."
  }

  # --- availability: the 5xx share of the API's requests, above what the objective allows
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.slo["availability"].threshold == 0.5 &&
      aws_cloudwatch_metric_alarm.slo["availability"].comparison_operator == "GreaterThanThreshold" &&
      [
        for q in aws_cloudwatch_metric_alarm.slo["availability"].metric_query :
        "${one(q.metric).namespace}:${one(q.metric).metric_name}:${one(q.metric).dimensions["ApiName"]}:${one(q.metric).dimensions["Stage"]}"
        if q.id == "errors"
      ] == ["AWS/ApiGateway:5XXError:pay-api:v1"]
    )
    error_message = "99.5% availability alarms when more than 0.5% of the v1 stage's requests are answered 5xx."
  }

  # --- approval rate: approved over decided payments, judged only above min_payments
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.slo["approval_rate"].threshold == 70 &&
      aws_cloudwatch_metric_alarm.slo["approval_rate"].comparison_operator == "LessThanThreshold" &&
      toset([
        for q in aws_cloudwatch_metric_alarm.slo["approval_rate"].metric_query : "${one(q.metric).namespace}:${one(q.metric).metric_name}:${one(q.metric).dimensions["service"]}:${one(q.metric).stat}"
        if length(q.metric) == 1
      ]) == toset(["pay/payments:PaymentsApproved:process-payment:Sum", "pay/payments:PaymentsDeclined:process-payment:Sum"]) &&
      strcontains(one([for q in aws_cloudwatch_metric_alarm.slo["approval_rate"].metric_query : q.expression if q.return_data == true]), ">= 30")
    )
    error_message = "The approval-rate alarm compares process-payment's PaymentsApproved with PaymentsDeclined (the names functions/domain/payment_metrics.py writes) below 70%, only on periods with 30 decided payments or more."
  }

  # --- fraud blocks: the blocked share of assessed payments
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.slo["fraud_blocks"].threshold == 4 &&
      toset([
        for q in aws_cloudwatch_metric_alarm.slo["fraud_blocks"].metric_query : "${one(q.metric).metric_name}:${one(q.metric).dimensions["service"]}"
        if length(q.metric) == 1
      ]) == toset(["PaymentsAssessed:assess-risk", "FraudBlocked:assess-risk"])
    )
    error_message = "The fraud-block alarm compares assess-risk's FraudBlocked with PaymentsAssessed above 4%."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.slo_latency.extended_statistic == "p99" &&
      aws_cloudwatch_metric_alarm.slo_latency.threshold == 2500 &&
      aws_cloudwatch_metric_alarm.slo_latency.dimensions == tomap({ ApiName = "pay-api", Stage = "v1" })
    )
    error_message = "The latency alarm watches the v1 stage's p99 against 2500 ms."
  }

  # --- the dashboard shows every objective and the steps' metrics, per environment
  assert {
    condition = (
      aws_cloudwatch_dashboard.this.dashboard_name == "pay-payments" &&
      length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[0].properties.alarms) == 4 &&
      strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "MetricName=\\\"Declines\\\"") &&
      alltrue([
        for name in ["PaymentsApproved", "PaymentsDeclined", "FraudBlocked", "ScaChallenges", "StepLatency", "ExecutionsFailed", "pay-tokenize"] :
        strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "\"${name}\"")
      ])
    )
    error_message = "The pay-payments dashboard shows the four SLO alarms, declines by code, outcomes, fraud and SCA, step latency, tokenize and the workflow."
  }
}

# platform passes its slo through with the attributes an environment did not set as null.
run "attributes_passed_as_null_take_the_module_defaults" {
  command = plan

  variables {
    slo = {
      availability_percent      = null
      latency_p99_ms            = 2500
      approval_rate_min_percent = null
      fraud_block_max_percent   = null
      min_requests              = null
      min_payments              = null
      period_seconds            = null
      evaluation_periods        = null
    }
  }

  assert {
    condition = (
      var.slo.availability_percent == 99.9 && var.slo.latency_p99_ms == 2500 &&
      var.slo.approval_rate_min_percent == 60 && var.slo.period_seconds == 300 &&
      aws_cloudwatch_metric_alarm.slo_latency.threshold == 2500 &&
      aws_cloudwatch_metric_alarm.slo["approval_rate"].threshold == 60
    )
    error_message = "A null attribute takes the module's default; a set one is kept."
  }
}
