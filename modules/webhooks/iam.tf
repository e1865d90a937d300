# Least privilege. The API function: the endpoint items and the log, read and written through
# DynamoDB, and the signing secrets sealed and opened under their own encryption context. The
# delivery function: the same table, the secrets opened (never sealed), both queues read and the
# delivery queue written, each queue's key through SQS only.

locals {
  table_key_via_dynamodb = {
    sid       = "TableKeyViaDynamoDb"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.data_kms_key_arn]
    conditions = [
      { test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.${local.region}.amazonaws.com"] },
      { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:tableName", values = [local.table_name] },
      { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:subscriberId", values = [local.account_id] },
    ]
  }

  # functions/adapters/webhook_secrets.py's context: a secret is only ever sealed or opened as a
  # webhook signing secret, so this grant opens nothing else under the application key.
  secret_context = [
    { test = "StringEquals", variable = "kms:EncryptionContext:purpose", values = ["webhook-signing-secret"] },
  ]

  api_statements = [
    {
      sid       = "Endpoints"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"]
      resources = [aws_dynamodb_table.this.arn]
    },
    local.table_key_via_dynamodb,
    {
      sid        = "SealSigningSecrets"
      actions    = ["kms:Encrypt", "kms:Decrypt"]
      resources  = [var.data_kms_key_arn]
      conditions = local.secret_context
    },
  ]

  delivery_statements = [
    {
      sid       = "DeliveryLog"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
      resources = [aws_dynamodb_table.this.arn]
    },
    local.table_key_via_dynamodb,
    {
      sid        = "OpenSigningSecrets"
      actions    = ["kms:Decrypt"]
      resources  = [var.data_kms_key_arn]
      conditions = local.secret_context
    },
    {
      sid       = "ReadQueues"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
      resources = [for q in aws_sqs_queue.this : q.arn]
    },
    {
      sid       = "QueueNextAttempts"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.this["deliveries"].arn]
    },
    {
      sid       = "QueueKeysViaSqs"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.data_kms_key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["sqs.${local.region}.amazonaws.com"] },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:sqs:arn", values = [for q in aws_sqs_queue.this : q.arn] },
      ]
    },
  ]
}
