# Least privilege, every statement naming its stream, table, bus or key.
#
#   EventBridge -> stream   PutRecord(s) on this stream from the two rules (the role trusts only
#                           them); the stream's key through Kinesis only,
#                           under the stream's encryption context
#   consumer                reads the stream (the event source mapping acts as the function's
#                           role), writes the feature and block-list tables, publishes
#                           fraud.alert (source blueprint.fraud) on the payment bus
#   hot-path readers        GetItem/BatchGetItem on the two tables (the assess step)

locals {
  key_via_kinesis = {
    test     = "StringEquals"
    variable = "kms:ViaService"
    values   = ["kinesis.${local.region}.amazonaws.com"]
  }
  key_for_stream = {
    test     = "StringEquals"
    variable = "kms:EncryptionContext:aws:kinesis:arn"
    values   = [aws_kinesis_stream.this.arn]
  }

  tables_via_dynamodb = [
    { test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.${local.region}.amazonaws.com"] },
    { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:tableName", values = [local.feature_table, local.block_list_table] },
    { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:subscriberId", values = [local.account_id] },
  ]

  consumer_statements = [
    {
      sid       = "ReadStream"
      actions   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]
      resources = [aws_kinesis_stream.this.arn]
    },
    {
      sid        = "StreamKeyViaKinesis"
      actions    = ["kms:Decrypt"]
      resources  = [var.data_kms_key_arn]
      conditions = [local.key_via_kinesis, local.key_for_stream]
    },
    {
      # Counters: one conditional UpdateItem per subject (its per-shard mark and its ADDs);
      # reads are batched.
      sid       = "Features"
      actions   = ["dynamodb:BatchGetItem", "dynamodb:UpdateItem"]
      resources = [aws_dynamodb_table.this["features"].arn]
    },
    {
      sid       = "BlockList"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
      resources = [aws_dynamodb_table.this["block_list"].arn]
    },
    {
      sid        = "TablesKeyViaDynamoDb"
      actions    = ["kms:Decrypt", "kms:DescribeKey"]
      resources  = [var.data_kms_key_arn]
      conditions = local.tables_via_dynamodb
    },
    {
      sid       = "PublishFraudAlerts"
      actions   = ["events:PutEvents"]
      resources = [var.event_bus.arn]
      conditions = [
        { test = "StringEquals", variable = "events:source", values = [local.alert_source] },
        { test = "StringEquals", variable = "events:detail-type", values = ["fraud.alert"] },
      ]
    },
  ]
}

resource "aws_iam_role" "events_to_stream" {
  name = "${var.name_prefix}-events-to-stream"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnEquals    = { "aws:SourceArn" = [for rule in aws_cloudwatch_event_rule.to_stream : rule.arn] }
      }
    }]
  })

  tags = local.tags
}

resource "aws_iam_role_policy" "events_to_stream" {
  name = "put-payment-events"
  role = aws_iam_role.events_to_stream.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "PutRecords"
        Effect   = "Allow"
        Action   = ["kinesis:PutRecord", "kinesis:PutRecords"]
        Resource = aws_kinesis_stream.this.arn
      },
      {
        Sid      = "StreamKeyViaKinesis"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey"]
        Resource = var.data_kms_key_arn
        Condition = {
          StringEquals = {
            "kms:ViaService"                        = "kinesis.${local.region}.amazonaws.com"
            "kms:EncryptionContext:aws:kinesis:arn" = aws_kinesis_stream.this.arn
          }
        }
      },
    ]
  })
}

resource "aws_iam_role_policy" "hot_path_read" {
  # Keyed by the caller's static names: the role names are known only after apply.
  for_each = var.hot_path_readers

  name = "${var.name_prefix}-read-fraud-stream"
  role = each.value
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadBlockListAndFeatures"
        Effect   = "Allow"
        Action   = ["dynamodb:BatchGetItem", "dynamodb:GetItem"]
        Resource = [aws_dynamodb_table.this["block_list"].arn, aws_dynamodb_table.this["features"].arn]
      },
      {
        Sid      = "TablesKeyViaDynamoDb"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:DescribeKey"]
        Resource = var.data_kms_key_arn
        Condition = {
          StringEquals = {
            "kms:ViaService"                                  = "dynamodb.${local.region}.amazonaws.com"
            "kms:EncryptionContext:aws:dynamodb:tableName"    = [local.feature_table, local.block_list_table]
            "kms:EncryptionContext:aws:dynamodb:subscriberId" = local.account_id
          }
        }
      },
    ]
  })
}
