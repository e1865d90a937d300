# AWS Config: every supported resource type recorded (global ones such as IAM included), the
# history and snapshots delivered to a bucket of their own, encrypted with the CMK, and the
# managed rules below evaluating the recorded configuration against the blueprint's standard.

locals {
  config_enabled     = var.config.enabled
  config_bucket_name = "${var.name}-config-${local.account_id}"

  # Managed rules, each the AWS counterpart of a control the blueprint's checks verify before
  # deployment; Config verifies them on what is deployed, and after every change.
  config_rules = var.config.enabled && var.config.managed_rules ? {
    cloudtrail-enabled                   = "CLOUD_TRAIL_ENABLED"
    cloudtrail-log-file-validation       = "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED"
    cmk-backing-key-rotation-enabled     = "CMK_BACKING_KEY_ROTATION_ENABLED"
    s3-bucket-ssl-requests-only          = "S3_BUCKET_SSL_REQUESTS_ONLY"
    s3-bucket-public-read-prohibited     = "S3_BUCKET_PUBLIC_READ_PROHIBITED"
    dynamodb-table-encrypted-kms         = "DYNAMODB_TABLE_ENCRYPTED_KMS"
    dynamodb-pitr-enabled                = "DYNAMODB_PITR_ENABLED"
    lambda-inside-vpc                    = "LAMBDA_INSIDE_VPC"
    lambda-function-public-access-denied = "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED"
    iam-policy-no-admin-access           = "IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS"
    vpc-flow-logs-enabled                = "VPC_FLOW_LOGS_ENABLED"
    vpc-default-security-group-closed    = "VPC_DEFAULT_SECURITY_GROUP_CLOSED"
    cloudwatch-log-group-encrypted       = "CLOUDWATCH_LOG_GROUP_ENCRYPTED"
    api-gw-associated-with-waf           = "API_GW_ASSOCIATED_WITH_WAF"
    # A security control that stops is itself a finding (PCI DSS 10.7.2): the trail above,
    # and these two, are re-evaluated whenever Config records a change.
    guardduty-enabled-centralized = "GUARDDUTY_ENABLED_CENTRALIZED"
    securityhub-enabled           = "SECURITYHUB_ENABLED"
  } : {}
}

data "aws_iam_policy_document" "config_assume" {
  count = local.config_enabled ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }

    # Only this account's Config may act as the role (confused deputy).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "config" {
  count = local.config_enabled ? 1 : 0

  name               = "${var.name}-config-recorder"
  assume_role_policy = data.aws_iam_policy_document.config_assume[0].json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "config" {
  count = local.config_enabled ? 1 : 0

  role       = aws_iam_role.config[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWS_ConfigRole"
}

data "aws_iam_policy_document" "config_delivery" {
  count = local.config_enabled ? 1 : 0

  statement {
    sid       = "DeliverToTheBucket"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.config[0].arn}/AWSLogs/${local.account_id}/Config/*"]

    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
  }

  statement {
    sid       = "ReadTheBucketAcl"
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.config[0].arn]
  }

  # The delivered objects are encrypted with the CMK, through S3 only.
  statement {
    sid       = "EncryptDeliveriesThroughS3"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "config_delivery" {
  count = local.config_enabled ? 1 : 0

  name   = "delivery"
  role   = aws_iam_role.config[0].id
  policy = data.aws_iam_policy_document.config_delivery[0].json
}

resource "aws_s3_bucket" "config" {
  #checkov:skip=CKV_AWS_144:Cross-region replication of the configuration history is an organisation-level log-archive decision, as for the audit archive.
  #checkov:skip=CKV_AWS_18:Config writes here through its role only (the bucket policy refuses anything without TLS and public access is blocked); its writes are recorded by CloudTrail, so server access logs would add a second record of the same deliveries.
  count = local.config_enabled ? 1 : 0

  bucket        = local.config_bucket_name
  force_destroy = var.force_destroy

  tags = merge(var.tags, { Name = local.config_bucket_name, DataClass = "configuration-history" })
}

resource "aws_s3_bucket_ownership_controls" "config" {
  count = local.config_enabled ? 1 : 0

  bucket = aws_s3_bucket.config[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "config" {
  count = local.config_enabled ? 1 : 0

  bucket                  = aws_s3_bucket.config[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "config" {
  count = local.config_enabled ? 1 : 0

  bucket = aws_s3_bucket.config[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "config" {
  count = local.config_enabled ? 1 : 0

  bucket = aws_s3_bucket.config[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_policy" "config" {
  count = local.config_enabled ? 1 : 0

  bucket = aws_s3_bucket.config[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.config[0].arn, "${aws_s3_bucket.config[0].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.config]
}

# A year of configuration history, the first 90 days kept hot (PCI DSS 10.5.1 for the audit
# trail it complements).
resource "aws_s3_bucket_lifecycle_configuration" "config" {
  count = local.config_enabled ? 1 : 0

  bucket = aws_s3_bucket.config[0].id

  rule {
    id     = "configuration-history"
    status = "Enabled"

    filter {}

    transition {
      days          = 90
      storage_class = "GLACIER"
    }

    expiration {
      days = var.config.delivery_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.config.delivery_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.config]
}

resource "aws_config_configuration_recorder" "this" {
  count = local.config_enabled ? 1 : 0

  name     = var.name
  role_arn = aws_iam_role.config[0].arn

  recording_group {
    all_supported                 = true
    include_global_resource_types = true
  }
}

resource "aws_config_delivery_channel" "this" {
  count = local.config_enabled ? 1 : 0

  name           = var.name
  s3_bucket_name = aws_s3_bucket.config[0].id
  s3_kms_key_arn = var.kms_key_arn

  snapshot_delivery_properties {
    delivery_frequency = var.config.snapshot_frequency
  }

  depends_on = [aws_config_configuration_recorder.this, aws_iam_role_policy.config_delivery]
}

resource "aws_config_configuration_recorder_status" "this" {
  count = local.config_enabled ? 1 : 0

  name       = aws_config_configuration_recorder.this[0].name
  is_enabled = true

  depends_on = [aws_config_delivery_channel.this]
}

resource "aws_config_config_rule" "managed" {
  for_each = local.config_rules

  name = "${var.name}-${each.key}"

  source {
    owner             = "AWS"
    source_identifier = each.value
  }

  tags = var.tags

  depends_on = [aws_config_configuration_recorder.this]
}
