data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  root_arn  = "arn:${local.partition}:iam::${var.account_id}:root"

  # The region is in the bucket's name: a second region's bootstrap must not collide with it.
  state_bucket_name = "${var.name_prefix}-tfstate-${var.account_id}-${var.region}"
  state_key_prefix  = "payments-blueprint"

  environments = {
    for env, settings in var.environments : env => {
      name_prefix              = "${var.name_prefix}-${env}"
      state_key                = "${local.state_key_prefix}/${env}/terraform.tfstate"
      plan_github_environment  = coalesce(settings.plan_github_environment, "${env}-plan")
      apply_github_environment = coalesce(settings.apply_github_environment, env)
    }
  }
}

# The state bucket's own key. State holds resource attributes (ARNs, generated names, the
# workflow definition), no cardholder data, but it is what an attacker would read first.
resource "aws_kms_key" "state" {
  description             = "Terraform state of the payments platform (${var.region})"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # AWS's default statement: IAM policies decide who uses the key (the deploy roles'
        # policies allow it only through S3), and the key can never become unmanageable.
        Sid       = "EnableAccountRootAndIamPolicies"
        Effect    = "Allow"
        Principal = { AWS = local.root_arn }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })
}

resource "aws_kms_alias" "state" {
  name          = "alias/${var.name_prefix}-tfstate"
  target_key_id = aws_kms_key.state.key_id
}

resource "aws_s3_bucket" "state" {
  bucket = local.state_bucket_name
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"
    filter {}

    noncurrent_version_expiration {
      noncurrent_days           = var.state_noncurrent_version_days
      newer_noncurrent_versions = var.state_newer_noncurrent_versions
    }

    # A lock file deleted by an unlock leaves a delete marker; without this they pile up.
    expiration {
      expired_object_delete_marker = true
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "DenyTlsBelow12"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
        Condition = { NumericLessThan = { "s3:TlsVersion" = "1.2" } }
      },
      {
        # Every object is encrypted with the state key, never with another key or SSE-S3.
        Sid       = "DenyOtherEncryptionKeys"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.state.arn}/*"
        Condition = {
          StringNotEqualsIfExists = { "s3:x-amz-server-side-encryption-aws-kms-key-id" = aws_kms_key.state.arn }
        }
      },
    ]
  })

  # S3 refuses a bucket policy while the public access block is being put; order them.
  depends_on = [aws_s3_bucket_public_access_block.state]
}
