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
