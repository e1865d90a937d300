resource "aws_cloudwatch_log_group" "workflow" {
  name              = "/aws/vendedlogs/states/${var.name_prefix}-payment-workflow"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.kms.logs_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "workflow" {
  name = "${var.name_prefix}-payment-workflow"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "workflow" {
  name = "least-privilege"
  role = aws_iam_role.workflow.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "InvokeSteps"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = [module.validate_payment.function_arn]
      },
      {
        Sid      = "RecordPayments"
        Effect   = "Allow"
        Action   = ["dynamodb:PutItem"]
        Resource = [aws_dynamodb_table.payments.arn]
      },
      {
        Sid      = "UseApplicationKey"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource = [module.kms.application_key_arn]
      },
      {
        # Log delivery for Step Functions is configured on "*": these APIs take no resource ARN.
        Sid    = "DeliverExecutionLogs"
        Effect = "Allow"
        Action = [
          "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
          "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
          "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
        ]
        Resource = ["*"]
      },
      {
        Sid      = "Tracing"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
        Resource = ["*"]
      },
    ]
  })
}

resource "aws_sfn_state_machine" "payment" {
  name     = "${var.name_prefix}-payment"
  type     = "EXPRESS"
  role_arn = aws_iam_role.workflow.arn
  definition = templatefile("${path.module}/templates/payment_workflow.asl.json.tftpl", {
    partition             = local.partition
    validate_function_arn = module.validate_payment.function_arn
    payments_table        = aws_dynamodb_table.payments.name
  })

  logging_configuration {
    # Execution data would carry card data into the logs (PCI DSS 3.3): never include it.
    log_destination        = "${aws_cloudwatch_log_group.workflow.arn}:*"
    include_execution_data = false
    level                  = "ALL"
  }

  tracing_configuration {
    enabled = true
  }

  encryption_configuration {
    type                              = "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_id                        = module.kms.application_key_arn
    kms_data_key_reuse_period_seconds = 300
  }

  depends_on = [aws_iam_role_policy.workflow]
  tags       = local.cde_tags
}
