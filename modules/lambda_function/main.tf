data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  account_id = data.aws_caller_identity.current.account_id

  environment = merge(var.environment_variables, {
    POWERTOOLS_SERVICE_NAME      = coalesce(var.powertools.service_name, var.name)
    POWERTOOLS_LOG_LEVEL         = var.powertools.log_level
    POWERTOOLS_METRICS_NAMESPACE = var.powertools.metrics_namespace
  })

  # Lambda's name for the Powertools (Python) level. Lambda sets AWS_LAMBDA_LOG_LEVEL from it and
  # Powertools obeys that first, so both always agree (and Powertools never warns of a mismatch).
  application_log_level = {
    DEBUG    = "DEBUG"
    INFO     = "INFO"
    WARNING  = "WARN"
    ERROR    = "ERROR"
    CRITICAL = "FATAL"
  }[var.powertools.log_level]
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Asynchronous failures go to the KMS-encrypted SQS on-failure destination (aws_lambda_function_event_invoke_config.this), which supersedes a dead_letter_config and records the error context; configuring both would deliver every failure twice. Functions that see card data turn the queue off (failure_queue_enabled = false): a kept failed event would hold the card number and CVC, and CKV_PCI_021 refuses any dead-letter or on-failure destination on them.
  function_name                  = var.name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  filename                       = var.filename
  source_code_hash               = filebase64sha256(var.filename)
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  kms_key_arn                    = var.kms_key_arn
  code_signing_config_arn        = var.code_signing_config_arn

  environment {
    variables = local.environment
  }

  tracing_config {
    mode = "Active"
  }

  # Advanced logging controls: JSON records, application logs filtered at the Powertools level, and
  # Lambda's own platform records (START/END/REPORT, INFO) only when system_log_level asks for them.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = local.application_log_level
    system_log_level      = var.system_log_level
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]

    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  tags = var.tags

  # The log group must exist (with its key and retention) before the first invocation, otherwise
  # Lambda creates an unencrypted one with infinite retention.
  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
  ]
}

# Asynchronous invocations (EventBridge, S3, SNS, Step Functions async) that still fail after the
# retries land in an encrypted queue for replay and investigation, never silently dropped. Not for
# functions that see card data (failure_queue_enabled = false): the record of a failed event is
# the event itself, card number and CVC included, kept for up to 14 days (PCI DSS 3.2.1, 3.3.1).
resource "aws_sqs_queue" "failures" {
  count = var.failure_queue_enabled ? 1 : 0

  name                              = "${var.name}-failures"
  message_retention_seconds         = var.failure_queue_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300

  tags = var.tags
}

resource "aws_sqs_queue_policy" "failures" {
  count = var.failure_queue_enabled ? 1 : 0

  queue_url = aws_sqs_queue.failures[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sqs:*"
      Resource  = aws_sqs_queue.failures[0].arn
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

# Always present, so that the retries and the event age are this module's choice and never the
# account default (2 retries, 6 hours): without a queue, a failed event is dropped after them.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.async_invoke.maximum_retry_attempts
  maximum_event_age_in_seconds = var.async_invoke.maximum_event_age_in_seconds

  dynamic "destination_config" {
    for_each = var.failure_queue_enabled ? ["queue"] : []

    content {
      on_failure {
        destination = aws_sqs_queue.failures[0].arn
      }
    }
  }
}
