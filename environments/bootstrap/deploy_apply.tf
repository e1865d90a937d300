# What the apply role may change: the resource types the platform composes (modules/*), each
# on resources named <name_prefix>-<env>-* in this account and region where the service lets a
# policy name the resource, and on the region otherwise (EC2 networking, API Gateway, WAF,
# Glue, and the account-level security services, whose resources have generated ids).
#
# Known limit: the role may create roles named <prefix>-* with any inline policy and pass them
# to the platform's services, so it can reach what those services reach. Closing that needs a
# permissions boundary on every role the modules create (only lambda_function and
# tokenization_vault take one today), then a condition on iam:PermissionsBoundary here.

locals {
  apply_statements = {
    for env, settings in local.environments : env => [
      {
        Sid    = "RolesOfThisEnvironment"
        Effect = "Allow"
        Action = [
          "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
          "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole",
          "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
          "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
        ]
        Resource = "arn:${local.partition}:iam::${var.account_id}:role/${settings.name_prefix}-*"
      },
      {
        # Only to the services the platform hands roles to.
        Sid      = "PassRolesOfThisEnvironmentToItsServices"
        Effect   = "Allow"
        Action   = "iam:PassRole"
        Resource = "arn:${local.partition}:iam::${var.account_id}:role/${settings.name_prefix}-*"
        Condition = {
          StringEquals = {
            "iam:PassedToService" = [
              "lambda.amazonaws.com", "states.amazonaws.com", "events.amazonaws.com",
              "firehose.amazonaws.com", "cloudtrail.amazonaws.com", "vpc-flow-logs.amazonaws.com",
              "config.amazonaws.com", "apigateway.amazonaws.com",
            ]
          }
        }
      },
      {
        Sid      = "ServiceLinkedRolesOfTheSecurityBaseline"
        Effect   = "Allow"
        Action   = "iam:CreateServiceLinkedRole"
        Resource = "arn:${local.partition}:iam::${var.account_id}:role/aws-service-role/*"
        Condition = {
          StringEquals = {
            "iam:AWSServiceName" = [
              "guardduty.amazonaws.com", "malware-protection.guardduty.amazonaws.com",
              "securityhub.amazonaws.com", "config.amazonaws.com", "inspector2.amazonaws.com",
              "ops.apigateway.amazonaws.com",
            ]
          }
        }
      },
      {
        Sid    = "ResourcesNamedForThisEnvironment"
        Effect = "Allow"
        Action = [
          "dynamodb:*", "lambda:*", "states:*", "events:*", "kinesis:*", "firehose:*", "sqs:*",
          "sns:*", "cloudwatch:*", "cloudtrail:*", "athena:*", "secretsmanager:*", "logs:*",
        ]
        Resource = [
          "${local.arn_prefix.dynamodb}:table/${settings.name_prefix}-*",
          "${local.arn_prefix.lambda}:function:${settings.name_prefix}-*",
          "${local.arn_prefix.states}:stateMachine:${settings.name_prefix}-*",
          "${local.arn_prefix.events}:event-bus/${settings.name_prefix}-*",
          "${local.arn_prefix.events}:rule/${settings.name_prefix}-*",
          "${local.arn_prefix.events}:archive/${settings.name_prefix}-*",
          "${local.arn_prefix.kinesis}:stream/${settings.name_prefix}-*",
          "${local.arn_prefix.firehose}:deliverystream/${settings.name_prefix}-*",
          "${local.arn_prefix.sqs}:${settings.name_prefix}-*",
          "${local.arn_prefix.sns}:${settings.name_prefix}-*",
          "${local.arn_prefix.cloudwatch}:alarm:${settings.name_prefix}-*",
          "${local.arn_prefix.cloudtrail}:trail/${settings.name_prefix}*",
          "${local.arn_prefix.athena}:workgroup/${settings.name_prefix}-*",
          "${local.arn_prefix.secretsmanager}:secret:${settings.name_prefix}-*",
          "${local.arn_prefix.logs}:log-group:*${settings.name_prefix}*",
        ]
      },
      {
        Sid    = "BucketsOfThisEnvironment"
        Effect = "Allow"
        Action = "s3:*"
        Resource = [
          "arn:${local.partition}:s3:::${settings.name_prefix}-*",
          "arn:${local.partition}:s3:::${settings.name_prefix}-*/*",
        ]
      },
      {
        # Event source mappings have generated ids; their creation names the function.
        Sid       = "EventSourceMappingsOfThisEnvironmentsFunctions"
        Effect    = "Allow"
        Action    = ["lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping", "lambda:TagResource", "lambda:UntagResource"]
        Resource  = "*"
        Condition = { ArnLike = { "lambda:FunctionArn" = "${local.arn_prefix.lambda}:function:${settings.name_prefix}-*" } }
      },
      {
        # Keys have generated ids: created with this environment's tag (the provider's
        # default_tags), then managed only while they carry it.
        Sid       = "CreateKeysTaggedForThisEnvironment"
        Effect    = "Allow"
        Action    = ["kms:CreateKey", "kms:TagResource"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:RequestTag/Environment" = env, "aws:RequestedRegion" = var.region } }
      },
      {
        Sid    = "ManageAndGrantKeysOfThisEnvironment"
        Effect = "Allow"
        Action = [
          "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus",
          "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:UpdateKeyDescription",
          "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:UntagResource",
          "kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant", "kms:ListResourceTags",
          "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias",
          "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateMac",
        ]
        Resource  = "${local.arn_prefix.kms}:key/*"
        Condition = { StringEquals = { "aws:ResourceTag/Environment" = env } }
      },
      {
        Sid      = "AliasesOfThisEnvironment"
        Effect   = "Allow"
        Action   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
        Resource = "${local.arn_prefix.kms}:alias/${settings.name_prefix}*"
      },
      {
        Sid    = "NetworkInThisRegion"
        Effect = "Allow"
        Action = [
          "ec2:*Vpc", "ec2:*Vpcs", "ec2:*VpcAttribute", "ec2:*Subnet", "ec2:*SubnetAttribute",
          "ec2:*RouteTable", "ec2:*Route", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
          "ec2:*InternetGateway", "ec2:*NatGateway", "ec2:AllocateAddress", "ec2:ReleaseAddress",
          "ec2:DisassociateAddress", "ec2:*SecurityGroup", "ec2:*SecurityGroupIngress",
          "ec2:*SecurityGroupEgress", "ec2:*SecurityGroupRules", "ec2:ModifySecurityGroupRules",
          "ec2:UpdateSecurityGroupRuleDescriptions*", "ec2:*FlowLogs", "ec2:*VpcEndpoint*",
          "ec2:CreateTags", "ec2:DeleteTags", "ec2:Describe*",
        ]
        Resource  = "*"
        Condition = local.in_region
      },
      {
        Sid    = "RegionalServicesWithGeneratedIds"
        Effect = "Allow"
        Action = [
          "apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE",
          "apigateway:UpdateRestApiPolicy", "apigateway:SetWebACL",
          "wafv2:*", "glue:*",
          # Account-level in a region: the security baseline (modules/security_baseline).
          "guardduty:*", "securityhub:*", "config:*", "inspector2:*",
          "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
          "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
          "logs:DeleteResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
        ]
        Resource  = "*"
        Condition = local.in_region
      },
      {
        # The account's API Gateway settings (the CloudWatch role) belong to the bootstrap.
        Sid      = "NotTheAccountsApiGatewaySettings"
        Effect   = "Deny"
        Action   = ["apigateway:PATCH", "apigateway:PUT", "apigateway:DELETE"]
        Resource = "arn:${local.partition}:apigateway:${var.region}::/account"
      },
    ]
  }
}

resource "aws_iam_role_policy" "deploy_apply" {
  for_each = { for key, role in local.deploy_roles : key => role if role.kind == "apply" }

  name   = "apply-${each.value.environment}"
  role   = aws_iam_role.deploy[each.key].id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.apply_statements[each.value.environment] })
}
