resource "aws_iam_role" "function" {
  for_each = local.functions

  name = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name = "least-privilege"
  role = aws_iam_role.function[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.function[each.key].arn}:*"
      },
      {
        Sid      = "DecryptEnvironment"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = aws_kms_key.this.arn
      },
      {
        # X-Ray accepts segments only on "*": the API has no resource-level permissions.
        Sid      = "Tracing"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        Resource = "*"
      },
    ]
  })
}

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name_prefix}-${replace(each.key, "_", "-")}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name    = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  role             = aws_iam_role.function[each.key].arn
  filename         = var.lambda_package
  source_code_hash = filebase64sha256(var.lambda_package)
  handler          = each.value.handler
  runtime          = var.lambda_runtime
  memory_size      = each.value.memory_size
  timeout          = each.value.timeout
  kms_key_arn      = aws_kms_key.this.arn

  environment {
    variables = {
      POWERTOOLS_SERVICE_NAME = replace(each.key, "_", "-")
      POWERTOOLS_LOG_LEVEL    = var.log_level
      PAYMENTS_TABLE_NAME     = aws_dynamodb_table.payments.name
    }
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_cloudwatch_log_group.function, aws_iam_role_policy.function]
  tags       = var.tags
}
