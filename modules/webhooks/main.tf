# Webhooks (docs/webhooks.md, docs/decisions/0009): merchants register endpoints through the
# Payment API (the API function, behind the merchant authorizer), and every payment.*,
# fraud.alert (about a merchant) and bnpl.* event on the payment bus is POSTed to its merchant's
# subscribed endpoints, signed with the endpoint's secret, retried with backoff for up to a day.
#
# bus --rule--> events queue --> delivery function: one delivery item per subscribed endpoint,
#   one message each on the delivery queue
# delivery queue --> delivery function: one attempt; a failure queues the next attempt with a
#   delay (SQS holds a message at most 900 s: longer waits hop)
#
# One table holds the endpoints (secrets sealed with the application key) and the delivery log
# (TTL); both queues and the table are under the application key.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  region        = data.aws_region.current.id
  account_id    = data.aws_caller_identity.current.account_id
  table_name    = "${var.name_prefix}-webhooks"
  api_name      = "${var.name_prefix}-webhooks-api"
  delivery_name = "${var.name_prefix}-webhook-delivery"
  queues = {
    events     = { name = "${var.name_prefix}-webhook-events", max_receive_count = 5 }
    deliveries = { name = "${var.name_prefix}-webhook-deliveries", max_receive_count = 5 }
  }
  # Every source a merchant's event comes from: the payments, the fraud stream's alerts and BNPL.
  event_sources = ["blueprint.payments", "blueprint.fraud", "blueprint.credit"]

  # Merchants' endpoint URLs and sealed secrets, and delivery outcomes: no card data.
  tags = merge(var.tags, { DataClass = "merchant-configuration" })

  common_environment = {
    PAYMENTS_ENVIRONMENT            = var.environment
    WEBHOOKS_TABLE_NAME             = local.table_name
    WEBHOOKS_KMS_KEY_ARN            = var.data_kms_key_arn
    WEBHOOK_ALLOW_HTTP              = tostring(var.endpoint_policy.allow_http)
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES = tostring(var.endpoint_policy.allow_private_addresses)
    WEBHOOK_LOG_RETENTION_DAYS      = tostring(var.delivery_log_retention_days)
  }
}

locals {
  # The delivery function outside the VPC on purpose (variable vpc_config says why).
  vpc_configs = {
    api      = var.vpc_config
    delivery = null
  }

  delivery_environment = merge(local.common_environment, {
    WEBHOOK_DELIVERY_QUEUE_URL      = aws_sqs_queue.this["deliveries"].url
    WEBHOOK_RETRY_BASE_SECONDS      = tostring(var.retry.base_delay_seconds)
    WEBHOOK_RETRY_MAX_DELAY_SECONDS = tostring(var.retry.max_delay_seconds)
    WEBHOOK_GIVE_UP_AFTER_SECONDS   = tostring(var.retry.give_up_after_hours * 3600)
    WEBHOOK_HTTP_TIMEOUT_SECONDS    = tostring(var.delivery.http_timeout_seconds)
  })
}

resource "aws_dynamodb_table" "this" {
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  # Delivery items only: endpoints carry no expires_at and stay.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
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

# Messages that failed max_receive_count times (a bug or an outage of DynamoDB or KMS, never a
# merchant's server answering badly: that is a recorded attempt) wait here for an operator.
resource "aws_sqs_queue" "dead_letter" {
  for_each = local.queues

  name                              = "${each.value.name}-dlq"
  message_retention_seconds         = 14 * 24 * 3600
  kms_master_key_id                 = var.data_kms_key_arn
  kms_data_key_reuse_period_seconds = 300

  tags = local.tags
}

resource "aws_sqs_queue" "this" {
  for_each = local.queues

  name = each.value.name
  # Six times the function's timeout, as Lambda advises for an SQS source: a batch still being
  # worked on is not handed to a second worker.
  visibility_timeout_seconds        = 6 * var.delivery.timeout
  message_retention_seconds         = 4 * 24 * 3600
  kms_master_key_id                 = var.data_kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter[each.key].arn
    maxReceiveCount     = each.value.max_receive_count
  })

  tags = local.tags
}

resource "aws_sqs_queue_policy" "this" {
  for_each = local.queues

  queue_url = aws_sqs_queue.this[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = aws_sqs_queue.this[each.key].arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      }],
      each.key != "events" ? [] : [{
        Sid       = "WebhookRuleSendsEvents"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = aws_sqs_queue.this[each.key].arn
        Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.this.arn } }
      }],
    )
  })
}

resource "aws_sqs_queue_policy" "dead_letter" {
  for_each = local.queues

  queue_url = aws_sqs_queue.dead_letter[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sqs:*"
      Resource  = aws_sqs_queue.dead_letter[each.key].arn
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

resource "aws_cloudwatch_metric_alarm" "dead_letter" {
  for_each = local.queues

  alarm_name          = "${each.value.name}-dlq-not-empty"
  alarm_description   = "Webhook messages gave up after ${each.value.max_receive_count} receives: see the delivery function's errors, then redrive ${each.value.name}-dlq."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter[each.key].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
  ok_actions          = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

  tags = local.tags
}

resource "aws_cloudwatch_event_rule" "this" {
  name           = "${var.name_prefix}-webhook-events"
  description    = "Every merchant event (payment.*, fraud.alert, bnpl.*) to the webhook delivery function."
  event_bus_name = var.event_bus.name
  event_pattern  = jsonencode({ source = local.event_sources })

  tags = local.tags
}

resource "aws_cloudwatch_event_target" "this" {
  rule           = aws_cloudwatch_event_rule.this.name
  event_bus_name = var.event_bus.name
  target_id      = "webhook-events"
  arn            = aws_sqs_queue.this["events"].arn

  dynamic "dead_letter_config" {
    for_each = var.event_bus.dead_letter_queue_arn == null ? [] : [var.event_bus.dead_letter_queue_arn]

    content {
      arn = dead_letter_config.value
    }
  }
}

module "api" {
  source = "../lambda_function"

  name                           = local.api_name
  description                    = "Payment API webhook endpoint routes: register, list, delete, rotate a secret, read deliveries."
  filename                       = var.lambda_package
  handler                        = "functions.handlers.webhooks_api.handler"
  runtime                        = var.lambda_runtime
  memory_size                    = 256
  timeout                        = 10
  reserved_concurrent_executions = 10
  kms_key_arn                    = var.data_kms_key_arn
  log_kms_key_arn                = var.logs_kms_key_arn
  log_retention_in_days          = var.log_retention_days
  vpc_config                     = local.vpc_configs.api
  alarm_sns_topic_arn            = var.alarm_sns_topic_arn
  # API Gateway calls it synchronously: an on-failure queue would never receive anything.
  failure_queue_enabled = false
  policy_statements     = local.api_statements

  powertools = {
    service_name = "webhooks-api"
    log_level    = var.log_level
  }
  environment_variables = local.common_environment

  tags = local.tags
}

module "delivery" {
  source = "../lambda_function"

  name                           = local.delivery_name
  description                    = "Webhook delivery: dispatches bus events to endpoints and makes each signed attempt."
  filename                       = var.lambda_package
  handler                        = "functions.handlers.webhook_delivery.handler"
  runtime                        = var.lambda_runtime
  memory_size                    = var.delivery.memory_size
  timeout                        = var.delivery.timeout
  reserved_concurrent_executions = var.delivery.reserved_concurrency
  kms_key_arn                    = var.data_kms_key_arn
  log_kms_key_arn                = var.logs_kms_key_arn
  log_retention_in_days          = var.log_retention_days
  vpc_config                     = local.vpc_configs.delivery
  alarm_sns_topic_arn            = var.alarm_sns_topic_arn
  # Its sources are SQS mappings: failed messages go to the queues' dead-letter queues.
  failure_queue_enabled = false
  policy_statements     = local.delivery_statements

  powertools = {
    service_name = "webhook-delivery"
    log_level    = var.log_level
  }
  environment_variables = local.delivery_environment

  tags = local.tags
}

resource "aws_lambda_event_source_mapping" "this" {
  for_each = local.queues

  event_source_arn        = aws_sqs_queue.this[each.key].arn
  function_name           = module.delivery.function_arn
  batch_size              = var.delivery.batch_size
  function_response_types = ["ReportBatchItemFailures"]

  tags = local.tags
}

# API Gateway may invoke the API function for the webhook routes only (path parameters "*").
resource "aws_lambda_permission" "api" {
  for_each = try(var.api_gateway.routes, {})

  statement_id  = "AllowPaymentApi-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = module.api.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${var.api_gateway.execution_arn}/*/${each.value.method}${replace(each.value.path, "/\\{[a-z_]+\\}/", "*")}"
}
