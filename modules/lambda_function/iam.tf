locals {
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${var.name}"
  # Known before the function exists (the role is created first); also with a version or alias.
  function_arn  = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.name}"
  function_arns = [local.function_arn, "${local.function_arn}:*"]

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
    ],
    [
      {
        # Lambda decrypts the environment with the execution role's permission when the function
        # starts: only through Lambda and only for this function (finding 11). Lambda's context is
        # {aws:lambda:FunctionArn = <function ARN>}; a direct kms:Decrypt of anything else under
        # this key (a table's, a queue's, a state machine's data key) carries neither.
        Sid      = "DecryptOwnEnvironment"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [var.kms_key_arn]
        Condition = {
          StringEquals = { "kms:ViaService" = "lambda.${local.region}.amazonaws.com" }
          ArnLike      = { "kms:EncryptionContext:aws:lambda:FunctionArn" = local.function_arns }
        }
      },
    ],
    # The failure queue, when there is one (failure_queue_enabled).
    flatten([for queue in aws_sqs_queue.failures : [
      {
        Sid      = "SendToOwnFailureQueue"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [queue.arn]
      },
      {
        # Lambda writes a failed event into the SSE-KMS queue as this role: SQS asks KMS for the
        # queue's data key under {aws:sqs:arn = <queue ARN>} (Amazon SQS Developer Guide, "Key
        # management"). Only through SQS and only for this function's own queue.
        Sid      = "EncryptOwnFailureQueue"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.kms_key_arn]
        Condition = {
          StringEquals = {
            "kms:ViaService"                    = "sqs.${local.region}.amazonaws.com"
            "kms:EncryptionContext:aws:sqs:arn" = queue.arn
          }
        }
      },
    ]]),
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

# Only Lambda may assume the role, and only for this function of this account (confused deputy:
# IAM User Guide, "Cross-service confused deputy prevention"). The conditions are the IfExists
# forms on purpose: AWS documents aws:SourceAccount and aws:SourceArn for services acting on
# behalf of a resource, but the Lambda developer guide does not list them for the assumption of
# an execution role, and a plain StringEquals on a key Lambda does not send would refuse every
# invocation on AWS, which no test here could see (the emulator enforces no IAM; finding 10 was
# that class of mistake). Where Lambda sends them they bind the role to this function; what binds
# it regardless is iam:PassRole, which only the deployer should hold on these roles.
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
      Condition = {
        StringEqualsIfExists = { "aws:SourceAccount" = local.account_id }
        ArnLikeIfExists      = { "aws:SourceArn" = local.function_arns }
      }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "least-privilege"
  role   = aws_iam_role.this.id
  policy = local.role_policy
}
