# The role every environment's key policies name as key administrator (key_administrator_arns).
# KMS refuses a key policy whose principal does not exist (MalformedPolicyDocumentException),
# so it must exist before an environment's first apply. It manages keys and cannot use them:
# the actions are the key policies' KeyAdministratorsManageOnly list (modules/kms).
resource "aws_iam_role" "key_administrator" {
  name                 = var.key_administrator_role_name
  description          = "Administers the payments platform's KMS keys; cannot encrypt or decrypt."
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = var.key_administrator_trusted_principals }
      Action    = ["sts:AssumeRole", "sts:SetSourceIdentity"]
    }]
  })
}

resource "aws_iam_role_policy" "key_administrator" {
  name = "manage-keys-only"
  role = aws_iam_role.key_administrator.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ManageKeysInThisRegion"
        Effect = "Allow"
        Action = [
          "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey",
          "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
          "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants",
          "kms:ListKeyPolicies", "kms:ListKeys", "kms:ListResourceTags", "kms:PutKeyPolicy",
          "kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion",
          "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
        ]
        Resource  = "*"
        Condition = { StringEquals = { "aws:RequestedRegion" = var.region } }
      },
    ]
  })
}
