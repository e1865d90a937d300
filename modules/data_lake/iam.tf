# Firehose's role, least privilege: read this one stream (its key only through Kinesis), run the
# transformation function, read this one table's schema, write objects into the lake bucket (its
# key only through S3, for this bucket), and write to its own log stream.

resource "aws_iam_role" "firehose" {
  name = "${local.tables.payment_events.delivery_stream}-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "firehose.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "sts:ExternalId" = local.account_id } }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "firehose" {
  name = "deliver-payment-events"
  role = aws_iam_role.firehose.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadSourceStream"
        Effect   = "Allow"
        Action   = ["kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"]
        Resource = var.source_stream_arn
      },
      {
        Sid      = "DecryptSourceStreamThroughKinesis"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = var.source_stream_kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "kinesis.${local.region}.amazonaws.com" }
          StringLike   = { "kms:EncryptionContext:aws:kinesis:arn" = var.source_stream_arn }
        }
      },
      {
        Sid    = "ReadTableSchema"
        Effect = "Allow"
        Action = ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"]
        Resource = concat(
          [
            "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
            "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${aws_glue_catalog_database.this.name}",
          ],
          [for table in aws_glue_catalog_table.this : "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${aws_glue_catalog_database.this.name}/${table.name}"],
        )
      },
      {
        Sid      = "RunTransformationStep"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
        Resource = [module.transform.function_arn, "${module.transform.function_arn}:*"]
      },
      {
        Sid      = "WriteLakeObjects"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
        Resource = [module.lake_bucket.arn, "${module.lake_bucket.arn}/*"]
      },
      {
        Sid      = "EncryptLakeObjectsThroughS3"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource = var.kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" }
          StringLike   = { "kms:EncryptionContext:aws:s3:arn" = "${module.lake_bucket.arn}*" }
        }
      },
      {
        Sid      = "WriteDeliveryErrors"
        Effect   = "Allow"
        Action   = "logs:PutLogEvents"
        Resource = [for stream in aws_cloudwatch_log_stream.firehose : "${aws_cloudwatch_log_group.firehose.arn}:log-stream:${stream.name}"]
      },
    ]
  })
}
