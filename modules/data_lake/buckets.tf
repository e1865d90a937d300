# The lake and the Athena results buckets (./bucket: customer key with bucket keys, versioning,
# TLS only, no public access, access logs, expiry per prefix), and their access-log bucket.

# The access-log bucket is named through its policy: S3 checks, when logging is switched on, that
# the policy lets logging.s3.amazonaws.com write, so only the logging waits for the policy; the
# rest of each bucket (its lifecycle configuration takes the provider a minute) starts at once.
module "lake_bucket" {
  source = "./bucket"

  name              = local.lake_bucket_name
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = aws_s3_bucket_policy.access_logs.bucket
  force_destroy     = var.force_destroy
  data_class        = "tokenized-analytics"
  # Retention per table: the events (personal data, docs/lake.md) and the records that failed
  # conversion expire on their own clocks.
  # Alerts hold card keys and merchant ids, as the events do, and are kept as long.
  lifecycle_rules = concat(
    [
      for table in keys(local.tables) : {
        id              = "${replace(table, "_", "-")}-retention"
        prefix          = "${table}/"
        expiration_days = var.retention.payment_events_days
        ia_after_days   = var.retention.transition_days
        noncurrent_days = 7
      }
    ],
    [
      {
        id              = "conversion-errors-retention"
        prefix          = "errors/"
        expiration_days = var.retention.errors_days
        noncurrent_days = 1
        ia_after_days   = null
      },
    ],
  )
  tags = var.tags
}

module "results_bucket" {
  source = "./bucket"

  name              = local.results_bucket_name
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = aws_s3_bucket_policy.access_logs.bucket
  force_destroy     = var.force_destroy
  data_class        = "tokenized-analytics"
  lifecycle_rules = [
    {
      id              = "query-results-retention"
      prefix          = ""
      expiration_days = var.retention.query_results_days
      noncurrent_days = 1
    },
  ]
  tags = var.tags
}

# Target of the two buckets' server access logs. S3 server access logging supports only SSE-S3
# (AES256) default encryption on the target bucket, not SSE-KMS. DataClass access-log, not
# audit-log: these record reads of tokenized analytics data outside the cardholder data
# environment; the CDE's audit trail is modules/audit's write-once archive.
resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_145:S3 server access log delivery does not support SSE-KMS default encryption on the target bucket; it is encrypted with SSE-S3 (AES256).
  #checkov:skip=CKV_AWS_18:This bucket is the server access log target; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Cross-region replication of access logs is an organisation-level log-archive decision.
  bucket        = local.access_log_bucket_name
  force_destroy = var.force_destroy

  tags = merge(var.tags, { Name = local.access_log_bucket_name, DataClass = "access-log" })
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "access-log-retention"
    status = "Enabled"

    filter {}

    expiration {
      days = var.retention.access_logs_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.access_logs]
}

resource "aws_s3_bucket_notification" "access_logs" {
  bucket      = aws_s3_bucket.access_logs.id
  eventbridge = true
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    # The logging-service statements come first, one per source bucket with its prefix as a
    # single Resource: the local emulator (moto 5.2.5) validates PutBucketLogging by reading the
    # statements in order, matches only a string Resource, and fails on a "*" principal. Written
    # out, not built with a for expression, so the compliance scan can read the TLS-only deny.
    Statement = [
      {
        Sid       = "S3ServerAccessLogsFromLake"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.access_logs.arn}/s3/${local.lake_bucket_name}/*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:s3:::${local.lake_bucket_name}" }
        }
      },
      {
        Sid       = "S3ServerAccessLogsFromResults"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.access_logs.arn}/s3/${local.results_bucket_name}/*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:s3:::${local.results_bucket_name}" }
        }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
