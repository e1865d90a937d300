# The transformation step: defence in depth behind the event contract (which already refuses an
# event holding a card number). Firehose hands it every record before the JQ partition keys and
# the Parquet conversion; it redacts any Luhn-valid 13-19 digit run, so a card number that
# reached the stream anyway lands neither in the lake nor under errors/. Each redaction is one
# log line with its count; the metric filter makes CardNumbersRedacted of it, alarmed at one.

module "transform" {
  source = "../lambda_function"

  name                           = local.transform_name
  description                    = "Data lake transformation: redacts card numbers before Parquet conversion."
  filename                       = var.transform.lambda_package
  handler                        = "functions.handlers.lake_transform.handler"
  runtime                        = var.transform.runtime
  memory_size                    = 256
  timeout                        = 60
  reserved_concurrent_executions = 5
  kms_key_arn                    = var.kms_key_arn
  log_kms_key_arn                = var.logs_kms_key_arn
  log_retention_in_days          = var.log_retention_days
  vpc_config                     = var.transform.vpc_config
  alarm_sns_topic_arn            = var.transform.alarm_sns_topic_arn
  policy_statements              = local.transform_statements
  # Firehose invokes the step synchronously and keeps what fails under errors/; an on-failure
  # queue would never receive anything, and the step is where a stray card number is seen.
  failure_queue_enabled = false

  environment_variables = {
    LAKE_PSEUDONYM_KEY_TABLE    = aws_dynamodb_table.pseudonym_keys.name
    LAKE_DELIVERY_STREAM_TABLES = jsonencode({ for table, t in local.tables : t.delivery_stream => table })
  }

  powertools = {
    service_name = "lake-transform"
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_metric_filter" "redactions" {
  name           = "${local.transform_name}-card-numbers-redacted"
  log_group_name = module.transform.log_group_name
  pattern        = "{ $.lake_redaction = \"card_number\" }"

  metric_transformation {
    name      = "CardNumbersRedacted"
    namespace = "${var.name_prefix}/lake"
    value     = "$.count"
  }
}

resource "aws_cloudwatch_metric_alarm" "redactions" {
  alarm_name          = "${local.transform_name}-card-numbers-redacted"
  alarm_description   = "A card number reached the payment event stream and was redacted before the lake: find the producer that bypassed the event contract."
  namespace           = "${var.name_prefix}/lake"
  metric_name         = aws_cloudwatch_log_metric_filter.redactions.metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.transform.alarm_sns_topic_arn == null ? [] : [var.transform.alarm_sns_topic_arn]

  tags = var.tags
}
