# BNPL checkout and collections (set by var.bnpl): the credit ledger, the bnpl function and the
# collections schedule.
#
# credit-ledger: the plans' double-entry movements (customer receivable, merchant payable, fee
#                income, credit-loss allowance), one item per entry (plan_id, step); an entry is
#                written once by a conditional put, so a repeated step posts nothing twice.
# bnpl:          the payment workflow's BNPL step ({"action": "checkout"}: decide, open the plan,
#                charge the first instalment, post the ledger, record the payment in the
#                payments table), its compensation ("compensate": refund the charge, cancel the
#                plan, reverse the ledger), a BNPL payment's refund ("refund": unwind the plan),
#                the collections run ("collect", also what the schedule sends) and the BNPL
#                reconciliation ("reconcile", hourly).
# bnpl events:   every bnpl.* event on the payment bus into a log group (the record operations
#                read; the payment events' record only takes blueprint.payments).

locals {
  ledger_table = "${var.name_prefix}-credit-ledger"
  bnpl_enabled = var.bnpl != null
  # Read through try(): with var.bnpl null the for expressions below keep nothing, and a
  # conditional between these objects and {} would not type-check.
  bnpl_bus       = try(var.bnpl.event_bus, { name = "", arn = "" })
  payments_table = try(var.bnpl.payments_table, { name = "", arn = "" })

  bnpl_environment = merge(local.api_environment, { for k, v in {
    CREDIT_LEDGER_TABLE_NAME = local.ledger_table
    EVENT_BUS_NAME           = local.bnpl_bus.name
    PAYMENTS_TABLE_NAME      = local.payments_table.name
    ACQUIRER_CONNECTOR       = try(var.bnpl.acquirer_connector, "")
    ACQUIRER_TIMEOUT_MS      = tostring(try(var.bnpl.acquirer_timeout_ms, 0))
    MERCHANT_SERVICE_CHARGE  = try(var.bnpl.merchant_service_charge, "")
    BNPL_COLLECTIONS = jsonencode({
      retry_every_days     = try(var.bnpl.retry_every_days, 0)
      write_off_after_days = try(var.bnpl.write_off_after_days, 0)
      late_fees            = try(var.bnpl.late_fees, {})
    })
  } : k => v if local.bnpl_enabled })

  # Beside the API's statements, what checkout, compensation, collections and early settlement
  # add: plans written, the collections' index of due plans, the credit ledger, the bus.
  bnpl_statements = [for s in [
    {
      sid       = "PlansWrite"
      actions   = ["dynamodb:PutItem"]
      resources = [aws_dynamodb_table.plans.arn]
    },
    {
      sid       = "CreditLedger"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
      resources = [try(aws_dynamodb_table.ledger[0].arn, "")]
    },
    {
      sid       = "PlansDue"
      actions   = ["dynamodb:Query"]
      resources = ["${aws_dynamodb_table.plans.arn}/index/due"]
    },
    {
      sid       = "Events"
      actions   = ["events:PutEvents"]
      resources = [local.bnpl_bus.arn]
    },
    {
      # The BNPL payment's record: written once per outcome, read back by a retried step; the
      # scheduled BNPL reconciliation's checkpoint (bnpl-reconcile#checkpoint); and, with the
      # acquirer simulator, its shared record of the charges it executed and received, which
      # the BNPL reconciliation reads for each plan it checks (every charge reference of a plan
      # in one BatchGetItem).
      sid       = "PaymentRecords"
      actions   = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"]
      resources = [local.payments_table.arn]
    },
    {
      # The BNPL reconciliation reads the payments updated in its window, and the acquirer
      # operations executed in it, by this index only.
      sid       = "PaymentsByUpdate"
      actions   = ["dynamodb:Query"]
      resources = ["${local.payments_table.arn}/index/by_update"]
    },
    {
      sid       = "BnplTablesKeyViaDynamoDb"
      actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
      resources = [var.data_kms_key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.${local.region}.amazonaws.com"] },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:tableName", values = [local.ledger_table, local.payments_table.name] },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:subscriberId", values = [local.account_id] },
      ]
    },
  ] : s if local.bnpl_enabled]
}

resource "aws_dynamodb_table" "ledger" {
  count = local.bnpl_enabled ? 1 : 0

  name                        = local.ledger_table
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "plan_id"
  range_key                   = "step"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "plan_id"
    type = "S"
  }

  attribute {
    name = "step"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.data_kms_key_arn
  }

  tags = local.tags
}

module "bnpl" {
  count  = local.bnpl_enabled ? 1 : 0
  source = "../lambda_function"

  name                           = "${var.name_prefix}-bnpl"
  description                    = "BNPL checkout step of the payment workflow, its compensation, and the collections run."
  filename                       = var.lambda_package
  handler                        = "functions.handlers.bnpl.handler"
  runtime                        = var.lambda_runtime
  memory_size                    = var.api.memory_size
  timeout                        = 60
  reserved_concurrent_executions = var.bnpl.reserved_concurrency
  kms_key_arn                    = var.data_kms_key_arn
  log_kms_key_arn                = var.logs_kms_key_arn
  log_retention_in_days          = var.log_retention_days
  vpc_config                     = var.vpc_config
  alarm_sns_topic_arn            = var.alarm_sns_topic_arn
  policy_statements              = concat(local.api_statements, local.bnpl_statements)

  powertools = {
    service_name = "bnpl"
    log_level    = var.log_level
  }
  environment_variables = local.bnpl_environment

  tags = local.tags
}

locals {
  collections_scheduled = local.bnpl_enabled && try(var.bnpl.collections_schedule_expression != null, false)
}

resource "aws_cloudwatch_event_rule" "collections" {
  count = local.collections_scheduled ? 1 : 0

  name                = "${var.name_prefix}-bnpl-collections"
  description         = "Runs ${module.bnpl[0].function_name}: charges the BNPL instalments due."
  event_bus_name      = "default"
  schedule_expression = var.bnpl.collections_schedule_expression

  tags = local.tags
}

resource "aws_cloudwatch_event_target" "collections" {
  count = local.collections_scheduled ? 1 : 0

  rule      = aws_cloudwatch_event_rule.collections[0].name
  target_id = "collections"
  arn       = module.bnpl[0].function_arn
  # The run charges what is due on the day it runs (the function's clock).
  input = jsonencode({ action = "collect" })
}

resource "aws_lambda_permission" "collections" {
  count = local.collections_scheduled ? 1 : 0

  statement_id  = "AllowCollectionsSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.bnpl[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.collections[0].arn
}

# The BNPL reconciliation: hourly by default, over the BNPL payments updated since the last
# run got to (its checkpoint; the last hour and a few minutes the first time), against their
# plans and the credit ledger. It reports and repairs nothing; any mismatch raises the alarm
# below.
locals {
  reconcile_scheduled = local.bnpl_enabled && try(var.bnpl.reconcile_schedule_expression != null, false)
}

resource "aws_cloudwatch_event_rule" "bnpl_reconcile" {
  count = local.reconcile_scheduled ? 1 : 0

  name                = "${var.name_prefix}-bnpl-reconcile"
  description         = "Runs ${module.bnpl[0].function_name}: BNPL payments against their plans and the credit ledger."
  event_bus_name      = "default"
  schedule_expression = var.bnpl.reconcile_schedule_expression

  tags = local.tags
}

resource "aws_cloudwatch_event_target" "bnpl_reconcile" {
  count = local.reconcile_scheduled ? 1 : 0

  rule      = aws_cloudwatch_event_rule.bnpl_reconcile[0].name
  target_id = "bnpl-reconcile"
  arn       = module.bnpl[0].function_arn
  input     = jsonencode({ action = "reconcile", scheduled = true })
}

resource "aws_lambda_permission" "bnpl_reconcile" {
  count = local.reconcile_scheduled ? 1 : 0

  statement_id  = "AllowBnplReconcileSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.bnpl[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.bnpl_reconcile[0].arn
}

resource "aws_cloudwatch_log_metric_filter" "bnpl_mismatches" {
  count = local.bnpl_enabled ? 1 : 0

  name           = "${var.name_prefix}-bnpl-reconciliation-mismatches"
  log_group_name = module.bnpl[0].log_group_name
  pattern        = "{ $.message = \"bnpl reconciliation\" && $.mismatch_count > 0 }"

  metric_transformation {
    name          = "BnplReconciliationMismatches"
    namespace     = "${var.name_prefix}/credit"
    value         = "$.mismatch_count"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "bnpl_mismatches" {
  count = local.bnpl_enabled ? 1 : 0

  alarm_name          = "${var.name_prefix}-bnpl-reconciliation-mismatches"
  alarm_description   = "The BNPL reconciliation found a payment whose record, plan and credit ledger disagree, or a plan held by a lapsed claim; read the bnpl function's \"bnpl reconciliation\" log line (kinds and payments listed)."
  namespace           = "${var.name_prefix}/credit"
  metric_name         = aws_cloudwatch_log_metric_filter.bnpl_mismatches[0].metric_transformation[0].name
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
  ok_actions          = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

  tags = local.tags
}

# The bnpl.* events' record: the whole event (plan, merchant, amount, instalment, status, decline
# code; no card data, not even the token), as the payment events have theirs.
locals {
  bnpl_event_log_group = "/aws/events/${var.name_prefix}-bnpl-events"
}

resource "aws_cloudwatch_log_group" "bnpl_events" {
  count = local.bnpl_enabled ? 1 : 0

  name              = local.bnpl_event_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn

  tags = local.tags
}

resource "aws_cloudwatch_event_rule" "bnpl_events" {
  count = local.bnpl_enabled ? 1 : 0

  name           = "${var.name_prefix}-bnpl-events-to-logs"
  description    = "Every bnpl.* event into ${local.bnpl_event_log_group}."
  event_bus_name = local.bnpl_bus.name
  event_pattern = jsonencode({
    source = ["blueprint.credit"]
  })

  tags = local.tags
}

resource "aws_cloudwatch_event_target" "bnpl_events" {
  count = local.bnpl_enabled ? 1 : 0

  rule           = aws_cloudwatch_event_rule.bnpl_events[0].name
  event_bus_name = local.bnpl_bus.name
  target_id      = "bnpl-event-record"
  arn            = aws_cloudwatch_log_group.bnpl_events[0].arn

  dynamic "dead_letter_config" {
    for_each = try(local.bnpl_bus.dead_letter_queue_arn, null) == null ? [] : [local.bnpl_bus.dead_letter_queue_arn]

    content {
      arn = dead_letter_config.value
    }
  }
}

# EventBridge writes to a log group through the group's resource policy: only this rule, only
# this group.
resource "aws_cloudwatch_log_resource_policy" "bnpl_events" {
  count = local.bnpl_enabled ? 1 : 0

  policy_name = "${var.name_prefix}-bnpl-events"
  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "BnplEventsRuleWritesEventRecord"
      Effect    = "Allow"
      Principal = { Service = ["events.amazonaws.com", "delivery.logs.amazonaws.com"] }
      Action    = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource  = "${aws_cloudwatch_log_group.bnpl_events[0].arn}:*"
      Condition = {
        ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.bnpl_events[0].arn }
      }
    }]
  })
}
