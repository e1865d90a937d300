data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  root_arn   = "arn:${local.partition}:iam::${local.account_id}:root"

  # Symmetric encryption keys; each rotates automatically every var.cryptoperiod_days.
  symmetric_keys = {
    vault       = "Token vault: encrypts PAN records (cardholder data environment)"
    application = "Application data: ledger, payments and workflow state (cardholder data environment)"
    data_lake   = "Data lake: tokenized analytics data, stream and Firehose delivery"
    logs        = "Logs: CloudWatch log groups, CloudTrail, alarm topics"
  }
  # The AWS Backup vault's own key (var.backup_key), apart from the tables' keys: disabling or
  # deleting a table's key then does not also take its backups.
  backup_key = var.backup_key ? { backup = "AWS Backup vault: recovery points of the vault and ledger tables (cardholder data environment)" } : {}

  # Management only: no Encrypt/Decrypt/GenerateDataKey/GenerateMac, and no CreateGrant
  # (a grant would let an administrator hand themselves a cryptographic permission).
  administrator_actions = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
  ]

  data_key_user_actions = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
  ]

  # Statements every key carries.
  root_statement = {
    # AWS's default key policy statement. It does not by itself let anyone use the key: it lets
    # the account's IAM policies grant access, and it guarantees the key can never become
    # unmanageable (a key whose policy names no valid principal can only be recovered by AWS
    # Support). Keep IAM/SCP guardrails so that no identity policy grants kms:* on these keys.
    Sid       = "EnableAccountRootAndIamPolicies"
    Effect    = "Allow"
    Principal = { AWS = local.root_arn }
    Action    = "kms:*"
    Resource  = "*"
  }

  administrator_statement = {
    Sid       = "KeyAdministratorsManageOnly"
    Effect    = "Allow"
    Principal = { AWS = var.key_administrator_arns }
    Action    = local.administrator_actions
    Resource  = "*"
  }

  # Grants only for AWS services acting for a key user (DynamoDB, Lambda, SQS encryption).
  grant_statement = {
    for purpose in ["application", "data_lake"] : purpose => {
      Sid       = "KeyUsersGrantsForAwsResourcesOnly"
      Effect    = "Allow"
      Principal = { AWS = var.key_users[purpose] }
      Action    = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
      Resource  = "*"
      Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
    }
  }

  # Candidate statements per key; a statement is kept only when it is enabled (its principal
  # list is not empty, or the service access is switched on).
  candidate_statements = {
    vault = [
      {
        enabled = length(var.key_users.vault_encrypt) > 0
        statement = {
          Sid       = "VaultEncryptOnly"
          Effect    = "Allow"
          Principal = { AWS = var.key_users.vault_encrypt }
          Action    = ["kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
          Resource  = "*"
        }
      },
      {
        enabled = length(var.key_users.vault_decrypt) > 0
        statement = {
          Sid       = "VaultDecryptOnly"
          Effect    = "Allow"
          Principal = { AWS = var.key_users.vault_decrypt }
          Action    = ["kms:Decrypt", "kms:DescribeKey"]
          Resource  = "*"
        }
      },
    ]
    application = [
      {
        enabled = length(var.key_users.application) > 0
        statement = {
          Sid       = "ApplicationKeyUsers"
          Effect    = "Allow"
          Principal = { AWS = var.key_users.application }
          Action    = local.data_key_user_actions
          Resource  = "*"
        }
      },
      { enabled = length(var.key_users.application) > 0, statement = local.grant_statement.application },
      {
        # Event buses encrypted with this key (the payment events): EventBridge uses the key only
        # for this account's buses, identified by the encryption context it sends.
        enabled = true
        statement = {
          Sid       = "EventBridgeThisAccountBusesOnly"
          Effect    = "Allow"
          Principal = { Service = "events.amazonaws.com" }
          Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource  = "*"
          Condition = {
            StringEquals = { "aws:SourceAccount" = local.account_id }
            ArnLike      = { "kms:EncryptionContext:aws:events:event-bus:arn" = "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/*" }
          }
        }
      },
      {
        enabled = true
        statement = {
          Sid       = "EventBridgeDescribeKey"
          Effect    = "Allow"
          Principal = { Service = "events.amazonaws.com" }
          Action    = ["kms:DescribeKey"]
          Resource  = "*"
          Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
        }
      },
      {
        # Queues encrypted with this key that a rule sends to (the webhook events queue):
        # EventBridge encrypts each message as itself, under the queue's ARN as context, and
        # only for this account's queues ("Enable compatibility between event sources from AWS
        # services and encrypted queues").
        enabled = true
        statement = {
          Sid       = "EventBridgeThisAccountQueuesOnly"
          Effect    = "Allow"
          Principal = { Service = "events.amazonaws.com" }
          Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource  = "*"
          Condition = {
            StringEquals = { "aws:SourceAccount" = local.account_id }
            ArnLike      = { "kms:EncryptionContext:aws:sqs:arn" = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:*" }
          }
        }
      },
      {
        # Execution logs of state machines encrypted with this key: Step Functions encrypts what
        # it hands to log delivery under the context SourceArn = this account's logs, and the
        # delivery service decrypts it as itself before writing to the log group ("Data at rest
        # encryption in Step Functions"). Without it the workflow's logs are lost.
        enabled = true
        statement = {
          Sid       = "LogDeliveryDecryptsThisAccountStateMachineLogs"
          Effect    = "Allow"
          Principal = { Service = "delivery.logs.amazonaws.com" }
          Action    = "kms:Decrypt"
          Resource  = "*"
          Condition = {
            StringLike = { "kms:EncryptionContext:SourceArn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:*" }
          }
        }
      },
    ]
    data_lake = [
      {
        enabled = length(var.key_users.data_lake) > 0
        statement = {
          Sid       = "DataLakeKeyUsers"
          Effect    = "Allow"
          Principal = { AWS = var.key_users.data_lake }
          Action    = local.data_key_user_actions
          Resource  = "*"
        }
      },
      { enabled = length(var.key_users.data_lake) > 0, statement = local.grant_statement.data_lake },
    ]
    logs = [
      {
        enabled = true
        statement = {
          Sid       = "CloudWatchLogsThisAccountLogGroupsOnly"
          Effect    = "Allow"
          Principal = { Service = "logs.${local.region}.amazonaws.com" }
          Action    = ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
          Resource  = "*"
          Condition = {
            ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*" }
          }
        }
      },
      {
        enabled = var.logs_service_access.cloudtrail
        statement = {
          Sid       = "CloudTrailEncryptThisAccountTrailsOnly"
          Effect    = "Allow"
          Principal = { Service = "cloudtrail.amazonaws.com" }
          Action    = "kms:GenerateDataKey*"
          Resource  = "*"
          Condition = {
            StringEquals = { "aws:SourceAccount" = local.account_id }
            StringLike   = { "kms:EncryptionContext:aws:cloudtrail:arn" = "arn:${local.partition}:cloudtrail:*:${local.account_id}:trail/*" }
          }
        }
      },
      {
        enabled = var.logs_service_access.cloudtrail
        statement = {
          Sid       = "CloudTrailDescribeKey"
          Effect    = "Allow"
          Principal = { Service = "cloudtrail.amazonaws.com" }
          Action    = "kms:DescribeKey"
          Resource  = "*"
          Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
        }
      },
      {
        # CloudWatch alarms publishing to an SNS topic encrypted with this key. CloudWatch sends no
        # caller-account context to KMS here (a kms:CallerAccount condition breaks alarm delivery),
        # so the topic policy is what restricts publishers to this account's alarms.
        enabled = var.logs_service_access.cloudwatch_alarms
        statement = {
          Sid       = "CloudWatchAlarmsPublishToEncryptedTopics"
          Effect    = "Allow"
          Principal = { Service = "cloudwatch.amazonaws.com" }
          Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
          Resource  = "*"
        }
      },
      {
        enabled = length(var.key_users.logs_decrypt) > 0
        statement = {
          Sid       = "LogReadersDecryptOnly"
          Effect    = "Allow"
          Principal = { AWS = var.key_users.logs_decrypt }
          Action    = ["kms:Decrypt", "kms:DescribeKey"]
          Resource  = "*"
        }
      },
    ]
    fingerprint = [
      {
        enabled = length(var.key_users.fingerprint) > 0
        statement = {
          Sid       = "FingerprintGenerateAndVerifyMacOnly"
          Effect    = "Allow"
          Principal = { AWS = var.key_users.fingerprint }
          Action    = ["kms:DescribeKey", "kms:GenerateMac", "kms:VerifyMac"]
          Resource  = "*"
        }
      },
    ]
    # AWS Backup uses the key with the backup role's permissions (through the root statement and
    # the role's AWS managed policy, which holds them via the Backup service only).
    backup = []
    card_key = [
      {
        enabled = length(var.key_users.card_key) > 0
        statement = {
          Sid       = "CardKeyGenerateMacOnly"
          Effect    = "Allow"
          Principal = { AWS = var.key_users.card_key }
          Action    = ["kms:DescribeKey", "kms:GenerateMac"]
          Resource  = "*"
        }
      },
    ]
  }

  # The vault key, locked (var.vault_key_policy): cryptographic use by the vault functions under
  # the vault's contexts and by DynamoDB for the tables it encrypts; nobody else, whatever IAM
  # says. Root keeps management so the key can never become unmanageable.
  vault_crypto_actions = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
  ]
  vault_dynamodb_service = "dynamodb.${local.region}.amazonaws.com"
  vault_crypto_role_arns = var.vault_key_policy == null ? [] : var.vault_key_policy.crypto_role_arns
  locked_vault_statements = [
    {
      Sid       = "AccountRootManagesButCannotUse"
      Effect    = "Allow"
      Principal = { AWS = local.root_arn }
      NotAction = local.vault_crypto_actions
      Resource  = "*"
    },
    {
      Sid       = "VaultFunctionsUseUnderVaultContextsOnly"
      Effect    = "Allow"
      Principal = { AWS = local.root_arn }
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = "*"
      Condition = {
        ArnEquals                   = { "aws:PrincipalArn" = local.vault_crypto_role_arns }
        StringEquals                = { "kms:EncryptionContext:vault" = ["data-key", "customer-key"] }
        "ForAllValues:StringEquals" = { "kms:EncryptionContextKeys" = ["vault", "tenant_id"] }
      }
    },
    {
      # DynamoDB encrypting the vault tables at rest, for whoever calls it in this account
      # (the deployer creating a table, a vault function reading an item): the table key, never
      # a vault data key, whose context DynamoDB does not send.
      Sid       = "DynamoDbTablesAtRest"
      Effect    = "Allow"
      Principal = { AWS = local.root_arn }
      Action    = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
      Resource  = "*"
      Condition = {
        StringEquals = { "kms:ViaService" = local.vault_dynamodb_service, "kms:CallerAccount" = local.account_id }
      }
    },
    {
      Sid       = "DenyCryptoToAnyoneElse"
      Effect    = "Deny"
      Principal = { AWS = "*" }
      Action    = local.vault_crypto_actions
      Resource  = "*"
      Condition = {
        ArnNotEquals            = { "aws:PrincipalArn" = local.vault_crypto_role_arns }
        StringNotEqualsIfExists = { "kms:ViaService" = local.vault_dynamodb_service }
        BoolIfExists            = { "aws:PrincipalIsAWSService" = "false" }
      }
    },
    {
      # A grant is a way around the key policy; only AWS services acting for a table may get one.
      Sid       = "DenyGrantsExceptForAwsResources"
      Effect    = "Deny"
      Principal = { AWS = "*" }
      Action    = "kms:CreateGrant"
      Resource  = "*"
      Condition = { Bool = { "kms:GrantIsForAWSResource" = "false" } }
    },
  ]

  policies = {
    for purpose, candidates in local.candidate_statements : purpose => (
      purpose == "vault" && var.vault_key_policy != null
      ? jsonencode({ Version = "2012-10-17", Statement = concat(local.locked_vault_statements, [local.administrator_statement]) })
      : jsonencode({ Version = "2012-10-17", Statement = concat([local.root_statement, local.administrator_statement], [for c in candidates : c.statement if c.enabled]) })
    )
  }
}

resource "aws_kms_key" "symmetric" {
  for_each = merge(local.symmetric_keys, local.backup_key)

  description              = each.value
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation      = true
  rotation_period_in_days  = var.cryptoperiod_days
  deletion_window_in_days  = var.deletion_window_in_days
  multi_region             = false
  policy                   = local.policies[each.key]

  tags = merge(var.tags, { Purpose = each.key })
}

# PAN fingerprinting: HMAC-SHA-256 over the PAN gives a stable, non-reversible fingerprint for
# duplicate detection without storing the PAN. AWS KMS cannot rotate HMAC keys automatically;
# the cryptoperiod is enforced by the documented manual rotation: a new key and a planned
# cut-over, never an alias switch (the vault functions hold the key ARN, and a new fingerprint
# key breaks deduplication until records are re-indexed).
resource "aws_kms_key" "fingerprint" {
  #checkov:skip=CKV_AWS_7:AWS KMS does not support automatic rotation of HMAC keys; rotation is manual, a new key and a planned cut-over within var.cryptoperiod_days (README, "Rotating the HMAC keys").
  description              = "PAN fingerprinting: HMAC-SHA-256 (cardholder data environment)"
  key_usage                = "GENERATE_VERIFY_MAC"
  customer_master_key_spec = "HMAC_256"
  enable_key_rotation      = false
  deletion_window_in_days  = var.deletion_window_in_days
  multi_region             = false
  policy                   = local.policies.fingerprint

  tags = merge(var.tags, { Purpose = "fingerprint", CryptoperiodDays = tostring(var.cryptoperiod_days), Rotation = "manual-new-key" })
}

# The platform-wide card key for risk (velocity, PSD2 Art. 16 counters): GenerateMac over the
# PAN, the same value for a card at every merchant. Its own key, apart from the per-tenant
# fingerprint key, so that who may compute one is decided separately from the other, and so
# that it can be rotated (which resets every per-card counter) on its own schedule.
resource "aws_kms_key" "card_key" {
  #checkov:skip=CKV_AWS_7:AWS KMS does not support automatic rotation of HMAC keys; rotating it resets per-card risk counters and is done by a new key (README, "Rotating the HMAC keys").
  description              = "Card key for risk counters: HMAC-SHA-256 over the PAN (cardholder data environment)"
  key_usage                = "GENERATE_VERIFY_MAC"
  customer_master_key_spec = "HMAC_256"
  enable_key_rotation      = false
  deletion_window_in_days  = var.deletion_window_in_days
  multi_region             = false
  policy                   = local.policies.card_key

  tags = merge(var.tags, { Purpose = "card-key", CryptoperiodDays = tostring(var.cryptoperiod_days), Rotation = "manual-new-key" })
}

resource "aws_kms_alias" "card_key" {
  name          = "${var.alias_prefix}/card-key"
  target_key_id = aws_kms_key.card_key.key_id
}

resource "aws_kms_alias" "symmetric" {
  for_each = merge(local.symmetric_keys, local.backup_key)

  name          = "${var.alias_prefix}/${replace(each.key, "_", "-")}"
  target_key_id = aws_kms_key.symmetric[each.key].key_id
}

resource "aws_kms_alias" "fingerprint" {
  name          = "${var.alias_prefix}/fingerprint"
  target_key_id = aws_kms_key.fingerprint.key_id
}
