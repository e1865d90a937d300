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
    # No aws:SourceArn or aws:SourceAccount condition: CloudTrail documents that it supports
    # neither for its CloudWatch Logs role, so a condition could stop the delivery the PCI DSS
    # 10.2 alarms read. No other account's trail can use the role anyway: naming it in a trail
    # takes iam:PassRole on it, which only this account's principals can hold.
    Statement = [{
      Sid       = "CloudTrailDelivery"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "sts:AssumeRole"
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

  # Management events (read and write) everywhere, plus data events for the cardholder-data
  # tables, functions and buckets only (PCI DSS 10.2.1, 10.2.1.1): every read of a vault item
  # and every call of a function that handles card numbers is recorded; tables and functions
  # that only ever see tokens are not, since their data events would cost $1 per million calls
  # and record no access to cardholder data. The
  # selectors are written out, not generated from a list, so static scanners can read them.
  advanced_event_selector {
    name = "Management events"

    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
  }

  dynamic "advanced_event_selector" {
    for_each = var.record_dynamodb_data_events ? [var.data_event_dynamodb_table_arns] : []

    content {
      name = "Cardholder-data DynamoDB tables"

      field_selector {
        field  = "eventCategory"
        equals = ["Data"]
      }

      field_selector {
        field  = "resources.type"
        equals = ["AWS::DynamoDB::Table"]
      }

      dynamic "field_selector" {
        for_each = length(advanced_event_selector.value) == 0 ? [] : [advanced_event_selector.value]

        content {
          field  = "resources.ARN"
          equals = field_selector.value
        }
      }
    }
  }

  dynamic "advanced_event_selector" {
    for_each = length(var.data_event_lambda_function_arns) == 0 ? [] : [var.data_event_lambda_function_arns]

    content {
      name = "Cardholder-data Lambda functions"

      field_selector {
        field  = "eventCategory"
        equals = ["Data"]
      }

      field_selector {
        field  = "resources.type"
        equals = ["AWS::Lambda::Function"]
      }

      field_selector {
        field  = "resources.ARN"
        equals = advanced_event_selector.value
      }
    }
  }

  dynamic "advanced_event_selector" {
    for_each = length(var.data_event_s3_bucket_arns) == 0 ? [] : [var.data_event_s3_bucket_arns]

    content {
      name = "Cardholder-data S3 buckets"

      field_selector {
        field  = "eventCategory"
        equals = ["Data"]
      }

      field_selector {
        field  = "resources.type"
        equals = ["AWS::S3::Object"]
      }

      field_selector {
        field       = "resources.ARN"
        starts_with = [for arn in advanced_event_selector.value : "${arn}/"]
      }
    }
  }

  tags = var.tags

  depends_on = [
    aws_s3_bucket_policy.archive,
    aws_iam_role_policy.cloudtrail,
  ]
}
