# Payment events (README "Events"): the workflow and reconcile publish them on a dedicated bus
# (source blueprint.payments). A rule copies every one to a log group, the event record that
# reconcile reads back. Events carry tokens, brands and last four digits only, never a PAN.

resource "aws_cloudwatch_event_bus" "payments" {
  name               = local.event_bus_name
  description        = "Payment lifecycle events (source ${local.event_source}); tokens and last four digits only."
  kms_key_identifier = var.data_kms_key_arn

  tags = local.table_tags
}

resource "aws_cloudwatch_log_group" "payment_events" {
  name              = local.event_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn

  tags = local.table_tags
}

resource "aws_cloudwatch_event_rule" "payment_events" {
  name           = "${var.name_prefix}-payment-events-to-logs"
  description    = "Every payment event into ${local.event_log_group} (the event record reconcile reads)."
  event_bus_name = aws_cloudwatch_event_bus.payments.name
  event_pattern = jsonencode({
    source = [local.event_source]
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "payment_events" {
  rule           = aws_cloudwatch_event_rule.payment_events.name
  event_bus_name = aws_cloudwatch_event_bus.payments.name
  target_id      = "event-record"
  arn            = aws_cloudwatch_log_group.payment_events.arn
}

# EventBridge writes to a log group through the log group's resource policy, not a role; only
# this rule may write, and only to this group.
resource "aws_cloudwatch_log_resource_policy" "payment_events" {
  policy_name = "${var.name_prefix}-payment-events"
  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PaymentEventsRuleWritesEventRecord"
      Effect    = "Allow"
      Principal = { Service = ["events.amazonaws.com", "delivery.logs.amazonaws.com"] }
      Action    = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource  = "${aws_cloudwatch_log_group.payment_events.arn}:*"
      Condition = {
        ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.payment_events.arn }
      }
    }]
  })
}

# Reconciliation on a schedule, on the account's default bus. Failed runs land in the
# function's encrypted on-failure queue (lambda_function) after the retries.
resource "aws_cloudwatch_event_rule" "reconcile" {
  count = var.reconcile_schedule_expression == null ? 0 : 1

  name                = "${var.name_prefix}-reconcile"
  description         = "Runs ${module.step["reconcile"].function_name}: payments vs ledger vs payment events."
  event_bus_name      = "default"
  schedule_expression = var.reconcile_schedule_expression

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "reconcile" {
  count = var.reconcile_schedule_expression == null ? 0 : 1

  rule      = aws_cloudwatch_event_rule.reconcile[0].name
  target_id = "reconcile"
  arn       = module.step["reconcile"].function_arn
}

resource "aws_lambda_permission" "reconcile_schedule" {
  count = var.reconcile_schedule_expression == null ? 0 : 1

  statement_id  = "AllowReconcileSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.step["reconcile"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.reconcile[0].arn
}
