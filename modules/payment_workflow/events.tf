# Payment events (README "Events"): the workflow and reconcile publish them on a dedicated bus
# (source blueprint.payments). A rule copies every one to a log group, the event record that
# reconcile reads back. Events carry tokens, brands and last four digits only, never a PAN.

locals {
  event_bus_arn = "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${local.event_bus_name}"
}

resource "aws_cloudwatch_event_bus" "payments" {
  name               = local.event_bus_name
  description        = "Payment lifecycle events (source ${local.event_source}); tokens and last four digits only."
  kms_key_identifier = var.data_kms_key_arn

  # On a bus with a customer key, an event EventBridge cannot encrypt or decrypt (the key
  # disabled, its policy changed, a KMS throttle past the retries) is dropped unless the bus has
  # a dead-letter queue ("Encrypting events" in the EventBridge guide recommends one for
  # exactly this case). The events carry no card data, so they can wait there for a redrive.
  dead_letter_config {
    arn = aws_sqs_queue.event_dead_letters.arn
  }

  tags = local.table_tags
}

# Events the bus could not handle under its key and events a rule of this bus could not deliver
# within its retry policy (the event record below). Fourteen days, SQS's longest, so a failure
# over a long weekend is still there to redrive.
resource "aws_sqs_queue" "event_dead_letters" {
  name                              = "${local.event_bus_name}-dlq"
  message_retention_seconds         = 14 * 24 * 3600
  kms_master_key_id                 = var.data_kms_key_arn
  kms_data_key_reuse_period_seconds = 300

  tags = local.table_tags
}

# EventBridge sends as itself: the bus for its own failures, a rule for its target's. Both are
# this bus's, named by ARN, so no other bus or account can fill the queue.
resource "aws_sqs_queue_policy" "event_dead_letters" {
  queue_url = aws_sqs_queue.event_dead_letters.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = aws_sqs_queue.event_dead_letters.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "PaymentBusAndItsRulesSendUndelivered"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = aws_sqs_queue.event_dead_letters.arn
        Condition = {
          ArnLike = {
            "aws:SourceArn" = [
              local.event_bus_arn,
              "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${local.event_bus_name}/*",
            ]
          }
        }
      },
    ]
  })
}

resource "aws_cloudwatch_metric_alarm" "event_dead_letters" {
  alarm_name          = "${local.event_bus_name}-dlq-not-empty"
  alarm_description   = "Payment events were not delivered (the bus's key, or a target past its retries): the event record may miss them and reconcile will say so. Find the cause in the message attributes (ERROR_CODE, RULE_ARN), then redrive ${local.event_bus_name}-dlq."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.event_dead_letters.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
  ok_actions          = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

  tags = var.tags
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
    detail = { payment_id = [{ exists = true }] }
  })

  tags = var.tags
}

# The record keeps what reconciliation compares (which event, of which payment, for how much)
# and nothing else: the whole envelope was about 900 bytes of log per event, nearly half the
# payment's log budget, and it held the card's platform key, BIN and last four. The events
# themselves go to the fraud stream and the lake. A log group target takes an input template
# of exactly {"timestamp", "message"}, both strings; the message is written as the log event.
resource "aws_cloudwatch_event_target" "payment_events" {
  rule           = aws_cloudwatch_event_rule.payment_events.name
  event_bus_name = aws_cloudwatch_event_bus.payments.name
  target_id      = "event-record"
  arn            = aws_cloudwatch_log_group.payment_events.arn

  dead_letter_config {
    arn = aws_sqs_queue.event_dead_letters.arn
  }

  input_transformer {
    input_paths = {
      time       = "$.time"
      type       = "$.detail-type"
      event_id   = "$.detail.event_id"
      payment_id = "$.detail.payment_id"
      amount     = "$.detail.operation_amount"
    }
    input_template = trimspace(<<-EOT
      {"timestamp": "<time>", "message": "{\"event_id\": \"<event_id>\", \"type\": \"<type>\", \"payment_id\": \"<payment_id>\", \"amount\": \"<amount>\"}"}
    EOT
    )
  }
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

# The scheduled functions, on the account's default bus: reconcile (hourly by default) and settle
# (daily: settlement batches, payouts, the TRA fraud-rate measurement). A null expression
# switches one off. Failed runs land in the function's encrypted on-failure queue
# (lambda_function) after the retries.
locals {
  schedules = {
    for name, schedule in {
      reconcile = {
        expression   = var.reconcile_schedule_expression
        does         = "payments vs ledger vs payment events"
        statement_id = "AllowReconcileSchedule"
      }
      settle = {
        expression   = var.settlement_schedule_expression
        does         = "settlement batches, then payouts"
        statement_id = "AllowSettleSchedule"
      }
    } : name => schedule if schedule.expression != null
  }
}

resource "aws_cloudwatch_event_rule" "schedule" {
  for_each = local.schedules

  name                = "${var.name_prefix}-${each.key}"
  description         = "Runs ${module.step[each.key].function_name}: ${each.value.does}."
  event_bus_name      = "default"
  schedule_expression = each.value.expression

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "schedule" {
  for_each = local.schedules

  rule      = aws_cloudwatch_event_rule.schedule[each.key].name
  target_id = each.key
  arn       = module.step[each.key].function_arn
}

resource "aws_lambda_permission" "schedule" {
  for_each = local.schedules

  statement_id  = each.value.statement_id
  action        = "lambda:InvokeFunction"
  function_name = module.step[each.key].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule[each.key].arn
}

# The count-based resources of each schedule keep their state (no destroy and create).
moved {
  from = aws_cloudwatch_event_rule.reconcile[0]
  to   = aws_cloudwatch_event_rule.schedule["reconcile"]
}

moved {
  from = aws_cloudwatch_event_target.reconcile[0]
  to   = aws_cloudwatch_event_target.schedule["reconcile"]
}

moved {
  from = aws_lambda_permission.reconcile_schedule[0]
  to   = aws_lambda_permission.schedule["reconcile"]
}

moved {
  from = aws_cloudwatch_event_rule.settle[0]
  to   = aws_cloudwatch_event_rule.schedule["settle"]
}

moved {
  from = aws_cloudwatch_event_target.settle[0]
  to   = aws_cloudwatch_event_target.schedule["settle"]
}

moved {
  from = aws_lambda_permission.settle_schedule[0]
  to   = aws_lambda_permission.schedule["settle"]
}
