# Least privilege: the API writes decisions (conditional puts: create, review) and reads them,
# reads plans and queries the plan indexes for the exposure figures; the table key only through
# DynamoDB, for these two tables of this account.

locals {
  api_statements = [
    {
      sid       = "Decisions"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
      resources = [aws_dynamodb_table.decisions.arn]
    },
    {
      sid       = "PlansRead"
      actions   = ["dynamodb:GetItem", "dynamodb:Query"]
      resources = [aws_dynamodb_table.plans.arn, "${aws_dynamodb_table.plans.arn}/index/customer", "${aws_dynamodb_table.plans.arn}/index/merchant"]
    },
    {
      sid       = "TablesKeyViaDynamoDb"
      actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
      resources = [var.data_kms_key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.${local.region}.amazonaws.com"] },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:tableName", values = [local.decisions_table, local.plans_table] },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:subscriberId", values = [local.account_id] },
      ]
    },
  ]
}
