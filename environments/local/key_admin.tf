# On AWS the key administrators are the platform team's SSO roles, passed in by ARN. The
# emulator has none, so this environment makes one for the keys to name.
data "aws_caller_identity" "current" {}

resource "aws_iam_role" "key_admin" {
  name = "payments-local-key-admin"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "sts:AssumeRole"
    }]
  })
}
