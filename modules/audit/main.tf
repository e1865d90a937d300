data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  trail_arn  = "arn:${local.partition}:cloudtrail:${local.region}:${local.account_id}:trail/${var.name}"

  archive_bucket_name    = "${var.name}-audit-logs-${local.account_id}"
  access_log_bucket_name = "${var.name}-access-logs-${local.account_id}"
}

# CloudTrail -> CloudWatch Logs, where the PCI DSS 10.2 metric filters run.
resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/cloudtrail/${var.name}"
  retention_in_days = var.cloudwatch_log_retention_in_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_iam_role" "cloudtrail" {
  name        = "${var.name}-cloudtrail-logs"
  description = "Lets CloudTrail deliver the ${var.name} trail to its CloudWatch log group only."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudTrailThisTrailOnly"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn } }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "cloudtrail" {
  name = "deliver-to-own-log-group"
  role = aws_iam_role.cloudtrail.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "WriteOwnLogGroup"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${aws_cloudwatch_log_group.this.arn}:log-stream:*"]
    }]
  })
}

locals {
  # Management events (read and write) everywhere, plus data events for the cardholder-data
  # tables and buckets only (PCI DSS 10.2.1, 10.2.1.1): every read of a vault item is recorded.
  event_selectors = concat(
    [{
      name = "Management events"
      fields = [
        { field = "eventCategory", equals = ["Management"], starts_with = null },
      ]
    }],
    length(var.data_event_dynamodb_table_arns) == 0 ? [] : [{
      name = "Cardholder-data DynamoDB tables"
      fields = [
        { field = "eventCategory", equals = ["Data"], starts_with = null },
        { field = "resources.type", equals = ["AWS::DynamoDB::Table"], starts_with = null },
        { field = "resources.ARN", equals = var.data_event_dynamodb_table_arns, starts_with = null },
      ]
    }],
    length(var.data_event_s3_bucket_arns) == 0 ? [] : [{
      name = "Cardholder-data S3 buckets"
      fields = [
        { field = "eventCategory", equals = ["Data"], starts_with = null },
        { field = "resources.type", equals = ["AWS::S3::Object"], starts_with = null },
        { field = "resources.ARN", equals = null, starts_with = [for arn in var.data_event_s3_bucket_arns : "${arn}/"] },
      ]
    }],
  )
}

resource "aws_cloudtrail" "this" {
  #checkov:skip=CKV_AWS_252:Per-log-file SNS notifications are not used: the trail streams to CloudWatch Logs (where the PCI DSS 10.2 alarms run) and the archive bucket publishes object-created events to EventBridge for SIEM consumers.
  name                          = var.name
  s3_bucket_name                = aws_s3_bucket.archive.id
  kms_key_id                    = var.kms_key_arn
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  enable_logging                = true
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.this.arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.cloudtrail.arn

  dynamic "advanced_event_selector" {
    for_each = local.event_selectors

    content {
      name = advanced_event_selector.value.name

      dynamic "field_selector" {
        for_each = advanced_event_selector.value.fields

        content {
          field       = field_selector.value.field
          equals      = field_selector.value.equals
          starts_with = field_selector.value.starts_with
        }
      }
    }
  }

  tags = var.tags

  depends_on = [
    aws_s3_bucket_policy.archive,
    aws_iam_role_policy.cloudtrail,
  ]
}
