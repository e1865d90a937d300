locals {
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${var.name}"

  base_statements = concat(
    [
      {
        Sid      = "WriteOwnLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${local.log_group_arn}:*"]
      },
      {
        # X-Ray trace segments have no resource-level permissions.
        Sid      = "XRayTracing"
        Effect   = "Allow"
        Action   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
        Resource = ["*"]
      },
      {
        Sid      = "SendToOwnFailureQueue"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [aws_sqs_queue.failures.arn]
      },
      {
        # Decrypt the environment; encrypt failure records into the SQS queue (SSE-KMS).
        Sid      = "UseEnvironmentAndQueueKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.kms_key_arn]
      },
    ],
    var.vpc_config == null ? [] : [
      {
        # Describe calls have no resource-level permissions.
        Sid      = "DescribeNetworkInterfaces"
        Effect   = "Allow"
        Action   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
        Resource = ["*"]
      },
      {
        # Hyperplane ENIs in the function's own subnets and security groups only.
        Sid    = "ManageNetworkInterfacesInOwnSubnets"
        Effect = "Allow"
        Action = ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"]
        Resource = concat(
          ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"],
          [for id in var.vpc_config.subnet_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${id}"],
          [for id in var.vpc_config.security_group_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/${id}"],
        )
      },
    ],
  )

  caller_statements = [
    for index, s in var.policy_statements : merge(
      {
        Sid      = coalesce(s.sid, "Caller${index}")
        Effect   = s.effect
        Action   = s.actions
        Resource = s.resources
      },
      length(s.conditions) == 0 ? {} : {
        Condition = {
          for test in distinct([for c in s.conditions : c.test]) : test => {
            for c in s.conditions : c.variable => c.values if c.test == test
          }
        }
      },
    )
  ]

  role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat(local.base_statements, local.caller_statements)
  })
}

resource "aws_iam_role" "this" {
  name                 = "${var.name}-role"
  description          = "Execution role of the ${var.name} Lambda function."
  permissions_boundary = var.permissions_boundary_arn
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LambdaAssumeRole"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "least-privilege"
  role   = aws_iam_role.this.id
  policy = local.role_policy
}
