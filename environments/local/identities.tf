# On AWS these are the platform team's SSO roles, passed in by ARN. The emulator has none, so
# this environment makes the two the platform names: the key administrator and the one role
# allowed to detokenize (a chargebacks team, say) through the API.
data "aws_caller_identity" "current" {}

locals {
  trust_this_account = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role" "key_admin" {
  name               = "payments-local-key-admin"
  assume_role_policy = local.trust_this_account
}

resource "aws_iam_role" "detokenizer" {
  name               = "payments-local-chargebacks"
  assume_role_policy = local.trust_this_account
}

# API Gateway writes stage logs with one CloudWatch Logs role per account and Region, and refuses
# a stage with logging until it is set. On AWS a bootstrap stack sets it once per account (it is
# a singleton); the emulator is a whole account, so this environment sets it. Not ordered before
# the stage by depends_on (a module-level depends_on defers the module's data sources and breaks
# the plan): three small resources, done long before the stage's functions and deployment.
resource "aws_iam_role" "apigateway_cloudwatch" {
  name = "payments-local-apigateway-cloudwatch"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "apigateway.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

# What the AWS managed AmazonAPIGatewayPushToCloudWatchLogs policy allows.
resource "aws_iam_role_policy" "apigateway_cloudwatch" {
  role = aws_iam_role.apigateway_cloudwatch.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      Action = [
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups",
        "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents",
      ]
      Resource = "*"
    }]
  })
}

resource "aws_api_gateway_account" "this" {
  cloudwatch_role_arn = aws_iam_role.apigateway_cloudwatch.arn
  depends_on          = [aws_iam_role_policy.apigateway_cloudwatch]
}
