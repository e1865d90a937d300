# Per environment, two roles GitHub Actions assumes through OIDC:
#   plan   read-only: ReadOnlyAccess without data reads, the state read, the lock file written
#   apply  the plan role's reads, the state written, and the writes the platform's resources
#          need, each scoped to the environment's name prefix (<name_prefix>-<env>-*) and region
#          where the service lets a policy name the resource
# Both are refused what no deployment needs: reading payment data (items, records, messages,
# objects, secrets, log events) and changing the bootstrap's own resources. Their names do not
# start with <name_prefix>-<env>-, so the apply role's IAM statements cannot reach them.

locals {
  deploy_roles = merge([
    for env, settings in local.environments : {
      for kind in ["plan", "apply"] : "${env}-${kind}" => {
        environment = env
        kind        = kind
        name        = "${var.name_prefix}-github-${env}-${kind}"
        subjects    = local.deploy_subjects[env][kind]
      }
    }
  ]...)

  arn_prefix = {
    for service in ["dynamodb", "lambda", "states", "events", "kinesis", "firehose", "sqs", "sns", "logs", "cloudwatch", "kms", "cloudtrail", "glue", "athena", "secretsmanager", "wafv2"] :
    service => "arn:${local.partition}:${service}:${var.region}:${var.account_id}"
  }
  in_region = { StringEquals = { "aws:RequestedRegion" = var.region } }

  # Reads no deployment needs and that would expose payment data (tokenized or not) or secrets.
  data_read_actions = [
    "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan",
    "dynamodb:GetRecords", "dynamodb:ExportTableToPointInTime", "dynamodb:PartiQLSelect",
    "kinesis:GetRecords", "kinesis:SubscribeToShard",
    "sqs:ReceiveMessage",
    "secretsmanager:GetSecretValue",
    "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults", "logs:StartLiveTail",
    "athena:GetQueryResults", "athena:StartQueryExecution",
    "states:GetExecutionHistory", "states:DescribeExecution",
    "lambda:InvokeFunction",
  ]
}

resource "aws_iam_role" "deploy" {
  for_each = local.deploy_roles

  name                 = each.value.name
  description          = "GitHub Actions ${each.value.kind} of the ${each.value.environment} environment (${var.github.owner}/${var.github.repository})."
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubActionsThisRepositoryAndEnvironmentOnly"
      Effect    = "Allow"
      Principal = { Federated = local.github_oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        # Both claims compared exactly (StringEquals, never StringLike): the audience that
        # aws-actions/configure-aws-credentials requests, and the one repository and GitHub
        # environment this role is for.
        StringEquals = {
          "${local.github_issuer}:aud" = "sts.amazonaws.com"
          "${local.github_issuer}:sub" = each.value.subjects
        }
      }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "deploy_read_only" {
  for_each = local.deploy_roles

  role       = aws_iam_role.deploy[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "deploy_guardrails" {
  for_each = local.deploy_roles

  name = "guardrails"
  role = aws_iam_role.deploy[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # ReadOnlyAccess includes most of these; a plan or apply needs none of them. (No
        # kms:Decrypt here: ReadOnlyAccess has none, and the state key needs it through S3.)
        Sid      = "DenyPaymentDataReads"
        Effect   = "Deny"
        Action   = local.data_read_actions
        Resource = "*"
      },
      {
        # Objects are data everywhere but in the state bucket.
        Sid         = "DenyObjectReadsOutsideState"
        Effect      = "Deny"
        Action      = ["s3:GetObject", "s3:GetObjectVersion"]
        NotResource = ["${aws_s3_bucket.state.arn}/*"]
      },
      {
        Sid    = "DenyBootstrapResources"
        Effect = "Deny"
        Action = ["iam:*", "s3:Delete*", "s3:Put*", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey"]
        Resource = [
          "arn:${local.partition}:iam::${var.account_id}:role/${var.name_prefix}-github-*",
          aws_iam_role.key_administrator.arn,
          aws_iam_role.api_gateway_cloudwatch.arn,
          "arn:${local.partition}:iam::${var.account_id}:oidc-provider/${local.github_issuer}",
          aws_s3_bucket.state.arn,
          aws_kms_key.state.arn,
        ]
      },
      {
        Sid    = "DenyLongLivedCredentials"
        Effect = "Deny"
        Action = [
          "iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
          "iam:CreateOpenIDConnectProvider", "iam:CreateSAMLProvider", "iam:AddUserToGroup",
          "iam:AttachUserPolicy", "iam:PutUserPolicy",
        ]
        Resource = "*"
      },
    ]
  })
}

resource "aws_iam_role_policy" "deploy_state" {
  for_each = local.deploy_roles

  name = "terraform-state"
  role = aws_iam_role.deploy[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ListStateBucket"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = aws_s3_bucket.state.arn
      },
      {
        # A plan reads the state and takes the lock (use_lockfile writes <key>.tflock); only an
        # apply writes the state itself.
        Sid      = each.value.kind == "apply" ? "ReadWriteThisEnvironmentsState" : "ReadThisEnvironmentsState"
        Effect   = "Allow"
        Action   = each.value.kind == "apply" ? ["s3:GetObject", "s3:PutObject"] : ["s3:GetObject"]
        Resource = "${aws_s3_bucket.state.arn}/${local.environments[each.value.environment].state_key}"
      },
      {
        Sid      = "LockThisEnvironmentsState"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = "${aws_s3_bucket.state.arn}/${local.environments[each.value.environment].state_key}.tflock"
      },
      {
        # Lambda answers a function's environment and Step Functions a state machine's
        # definition decrypted with the caller's permissions when a customer managed key
        # encrypts them; without Decrypt, Terraform reads them as missing and plans a change
        # on every run. Only through those two services, on this environment's keys.
        Sid      = "ReadConfigurationEncryptedWithThisEnvironmentsKeys"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = "arn:${local.partition}:kms:${var.region}:${var.account_id}:key/*"
        Condition = {
          StringEquals = {
            "kms:ViaService"              = ["lambda.${var.region}.amazonaws.com", "states.${var.region}.amazonaws.com"]
            "aws:ResourceTag/Environment" = each.value.environment
          }
        }
      },
      {
        Sid      = "StateKeyThroughS3Only"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
        Resource = aws_kms_key.state.arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${var.region}.amazonaws.com" }
        }
      },
    ]
  })
}
