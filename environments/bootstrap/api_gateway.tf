# API Gateway's CloudWatch Logs role is an account-and-region setting, not a stage's: without
# it, a stage with access or execution logging fails to create (the payment API has both).
# One per account and region, so it lives here and not in an environment that might be
# applied twice in one account.
resource "aws_iam_role" "api_gateway_cloudwatch" {
  name        = "${var.name_prefix}-apigateway-logs-${var.region}"
  description = "API Gateway writes access and execution logs to CloudWatch Logs (${var.region})."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "apigateway.amazonaws.com" }
      # No aws:SourceArn/SourceAccount condition: AWS documents none for this account-level
      # role, and a condition the service does not send would break every stage's logging.
      Action = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "api_gateway_cloudwatch" {
  role       = aws_iam_role.api_gateway_cloudwatch.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch.arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]
}
