# Unit tests: plan only, against a mocked AWS provider. They assert the key properties and
# the key policies that PCI DSS 3.6/3.7 rely on, and that unsafe inputs are refused.

mock_provider "aws" {
  override_data {
    target = data.aws_caller_identity.current
    values = {
      account_id = "111122223333"
      arn        = "arn:aws:iam::111122223333:role/terraform"
    }
  }
  override_data {
    target = data.aws_partition.current
    values = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }
  override_data {
    target = data.aws_region.current
    values = {
      id   = "eu-west-1"
      name = "eu-west-1"
    }
  }
}

variables {
  alias_prefix           = "alias/payments-test"
  key_administrator_arns = ["arn:aws:iam::111122223333:role/key-admin"]
  key_users = {
    vault_encrypt = ["arn:aws:iam::111122223333:role/tokenizer"]
    vault_decrypt = ["arn:aws:iam::111122223333:role/detokenizer"]
    fingerprint   = ["arn:aws:iam::111122223333:role/tokenizer"]
    application   = ["arn:aws:iam::111122223333:role/ledger"]
    data_lake     = ["arn:aws:iam::111122223333:role/firehose"]
    logs_decrypt  = ["arn:aws:iam::111122223333:role/investigator"]
  }
}

# Each run starts the provider, so the properties that need no inputs of their own share one
# plan; each "---" heading is one property, and an assertion's error message names what failed.
run "the_keys_with_the_defaults" {
  command = plan

  # --- keys have secure lifecycle defaults
  assert {
    condition     = toset(keys(aws_kms_key.symmetric)) == toset(["vault", "application", "data_lake", "logs"])
    error_message = "Expected one symmetric key per purpose: vault, application, data_lake, logs."
  }

  assert {
    condition     = alltrue([for k in aws_kms_key.symmetric : k.enable_key_rotation && k.rotation_period_in_days == 365])
    error_message = "Every symmetric key must rotate automatically every 365 days by default."
  }

  assert {
    condition     = alltrue([for k in aws_kms_key.symmetric : k.deletion_window_in_days == 30 && k.multi_region == false])
    error_message = "Keys must default to a 30-day deletion window and be single-region."
  }

  assert {
    condition     = aws_kms_key.fingerprint.key_usage == "GENERATE_VERIFY_MAC" && aws_kms_key.fingerprint.customer_master_key_spec == "HMAC_256"
    error_message = "The fingerprint key must be an HMAC_256 key used for GENERATE_VERIFY_MAC."
  }

  assert {
    condition     = aws_kms_key.fingerprint.enable_key_rotation == false && aws_kms_key.fingerprint.multi_region == false && aws_kms_key.fingerprint.deletion_window_in_days == 30
    error_message = "The HMAC key cannot rotate automatically in AWS (manual: a new key and a planned cut-over), must be single-region and keep the 30-day window."
  }

  assert {
    condition     = aws_kms_alias.fingerprint.name == "alias/payments-test/fingerprint" && aws_kms_alias.symmetric["data_lake"].name == "alias/payments-test/data-lake"
    error_message = "Aliases must be <alias_prefix>/<purpose>."
  }

  # --- no backup key by default
  assert {
    condition     = !contains(keys(aws_kms_key.symmetric), "backup") && output.backup_key_arn == null
    error_message = "No backup key unless backup_key is set."
  }

  # --- key policies separate administrators from users
  assert {
    condition = alltrue(flatten([
      for policy in concat([for k in aws_kms_key.symmetric : k.policy], [aws_kms_key.fingerprint.policy]) : [
        for s in jsondecode(policy).Statement : length(setintersection(toset(flatten([s.Action])), toset([
          "kms:*", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:GenerateMac",
          "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:CreateGrant",
        ]))) == 0 if s.Sid == "KeyAdministratorsManageOnly"
      ]
    ]))
    error_message = "Key administrators must not get cryptographic operations or CreateGrant."
  }

  assert {
    condition = alltrue([
      for policy in concat([for k in aws_kms_key.symmetric : k.policy], [aws_kms_key.fingerprint.policy]) :
      length([for s in jsondecode(policy).Statement : s if s.Sid == "KeyAdministratorsManageOnly" && try(s.Principal.AWS, null) == ["arn:aws:iam::111122223333:role/key-admin"]]) == 1
    ])
    error_message = "Every key policy must name the administrator roles."
  }

  assert {
    condition = alltrue([
      for policy in concat([for k in aws_kms_key.symmetric : k.policy], [aws_kms_key.fingerprint.policy]) :
      length([for s in jsondecode(policy).Statement : s if s.Principal == { AWS = "arn:aws:iam::111122223333:root" } && s.Action == "kms:*"]) == 1
    ])
    error_message = "Every key policy must keep the account root statement so the key can never be orphaned."
  }

  assert {
    condition = alltrue(flatten([
      for policy in concat([for k in aws_kms_key.symmetric : k.policy], [aws_kms_key.fingerprint.policy]) : [
        for s in jsondecode(policy).Statement : !contains(flatten([s.Action]), "kms:*") if s.Sid != "EnableAccountRootAndIamPolicies"
      ]
    ]))
    error_message = "Only the account root statement may carry kms:*."
  }

  # --- vault key splits encrypt from decrypt
  assert {
    condition = one([
      for s in jsondecode(aws_kms_key.symmetric["vault"].policy).Statement : s if s.Sid == "VaultEncryptOnly"
      ]).Principal.AWS == ["arn:aws:iam::111122223333:role/tokenizer"] && !contains(one([
        for s in jsondecode(aws_kms_key.symmetric["vault"].policy).Statement : s if s.Sid == "VaultEncryptOnly"
    ]).Action, "kms:Decrypt")
    error_message = "Vault encrypt principals must not be able to decrypt."
  }

  assert {
    condition = toset(one([
      for s in jsondecode(aws_kms_key.symmetric["vault"].policy).Statement : s if s.Sid == "VaultDecryptOnly"
    ]).Action) == toset(["kms:Decrypt", "kms:DescribeKey"])
    error_message = "Vault decrypt principals must get only kms:Decrypt and kms:DescribeKey."
  }

  assert {
    condition = toset(one([
      for s in jsondecode(aws_kms_key.fingerprint.policy).Statement : s if s.Sid == "FingerprintGenerateAndVerifyMacOnly"
    ]).Action) == toset(["kms:DescribeKey", "kms:GenerateMac", "kms:VerifyMac"])
    error_message = "Fingerprint principals must get only MAC operations."
  }

  # --- logs key admits cloudwatch logs for this account only
  assert {
    condition = one([
      for s in jsondecode(aws_kms_key.symmetric["logs"].policy).Statement : s if try(s.Principal.Service, "") == "logs.eu-west-1.amazonaws.com"
    ]).Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:111122223333:log-group:*"
    error_message = "The CloudWatch Logs service principal must be bound to this account's log groups by encryption context."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_kms_key.symmetric["logs"].policy).Statement : s if s.Sid == "CloudTrailEncryptThisAccountTrailsOnly"
    ]).Condition.StringEquals["aws:SourceAccount"] == "111122223333"
    error_message = "CloudTrail may use the logs key only for this account's trails."
  }

  assert {
    condition = alltrue([
      for purpose in ["vault", "data_lake"] :
      length([for s in jsondecode(aws_kms_key.symmetric[purpose].policy).Statement : s if can(s.Principal.Service)]) == 0
    ])
    error_message = "Only the logs key and the application key (EventBridge) may name AWS service principals."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.symmetric["application"].policy).Statement :
      s.Principal.Service == "events.amazonaws.com" ? s.Condition.StringEquals["aws:SourceAccount"] == "111122223333" : (
        s.Principal.Service == "delivery.logs.amazonaws.com" && s.Action == "kms:Decrypt" &&
        s.Condition.StringLike["kms:EncryptionContext:SourceArn"] == "arn:aws:logs:eu-west-1:111122223333:*"
      )
      if can(s.Principal.Service)
    ])
    error_message = "The application key admits only EventBridge and log delivery (Decrypt of state machine logs), and only for this account."
  }

  assert {
    condition     = length([for s in jsondecode(aws_kms_key.symmetric["application"].policy).Statement : s if try(s.Principal.Service, "") == "delivery.logs.amazonaws.com"]) == 1
    error_message = "Log delivery must be able to decrypt the execution logs of state machines encrypted with the application key."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_kms_key.symmetric["application"].policy).Statement : s if s.Sid == "EventBridgeThisAccountBusesOnly"
    ]).Condition.ArnLike["kms:EncryptionContext:aws:events:event-bus:arn"] == "arn:aws:events:eu-west-1:111122223333:event-bus/*"
    error_message = "EventBridge may use the application key only for this account's buses."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_kms_key.symmetric["application"].policy).Statement : s if s.Sid == "EventBridgeThisAccountQueuesOnly"
    ]).Condition.ArnLike["kms:EncryptionContext:aws:sqs:arn"] == "arn:aws:sqs:eu-west-1:111122223333:*"
    error_message = "EventBridge may use the application key only for this account's queues (the webhook events queue)."
  }

  # --- card key is a single region mac only hmac key
  assert {
    condition = (
      aws_kms_key.card_key.key_usage == "GENERATE_VERIFY_MAC" &&
      aws_kms_key.card_key.customer_master_key_spec == "HMAC_256" &&
      aws_kms_key.card_key.multi_region == false
    )
    error_message = "The card key is an HMAC_256 key for GENERATE_VERIFY_MAC only, single-region."
  }

  assert {
    condition     = aws_kms_alias.card_key.name == "alias/payments-test/card-key"
    error_message = "The card key has its own alias."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.card_key.policy).Statement :
      length(setintersection(toset(flatten([s.Action])), toset(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:VerifyMac"]))) == 0
      if s.Sid == "CardKeyGenerateMacOnly"
    ])
    error_message = "Card key users may only GenerateMac (and describe)."
  }
}

run "backup_key_exists_only_when_backups_are_made" {
  command = plan

  variables {
    backup_key = true
  }

  assert {
    condition     = aws_kms_key.symmetric["backup"].enable_key_rotation && aws_kms_alias.symmetric["backup"].name == "alias/payments-test/backup"
    error_message = "The backup key must rotate and carry its alias."
  }

  assert {
    # Root (IAM, through which AWS Backup's role acts) and the administrators, nobody else.
    condition     = [for s in jsondecode(aws_kms_key.symmetric["backup"].policy).Statement : s.Sid] == ["EnableAccountRootAndIamPolicies", "KeyAdministratorsManageOnly"]
    error_message = "The backup key's policy must name no user beyond root's IAM delegation and the administrators."
  }
}

run "cryptoperiod_is_configurable" {
  command = plan

  variables {
    cryptoperiod_days       = 90
    deletion_window_in_days = 7
  }

  assert {
    condition     = alltrue([for k in aws_kms_key.symmetric : k.rotation_period_in_days == 90 && k.deletion_window_in_days == 7])
    error_message = "rotation_period_in_days must follow cryptoperiod_days and the deletion window must follow its variable."
  }

  assert {
    condition     = aws_kms_key.fingerprint.tags["CryptoperiodDays"] == "90"
    error_message = "The HMAC key must carry its manual-rotation cryptoperiod as a tag."
  }

  # Issue 18, finding 11: the functions hold key ARNs, so an alias switch rotates nothing; both
  # HMAC keys say how they are rotated (README, "Rotating the HMAC keys").
  assert {
    condition     = aws_kms_key.fingerprint.tags["Rotation"] == "manual-new-key" && aws_kms_key.card_key.tags["Rotation"] == "manual-new-key"
    error_message = "HMAC keys are rotated by a new key and a planned cut-over, not by an alias switch."
  }
}

run "no_users_means_no_user_statements" {
  command = plan

  variables {
    key_users = {}
    logs_service_access = {
      cloudtrail        = false
      cloudwatch_alarms = false
    }
  }

  assert {
    condition     = length(jsondecode(aws_kms_key.symmetric["vault"].policy).Statement) == 2
    error_message = "Without key users the vault policy holds only the root and administrator statements."
  }

  assert {
    condition     = length(jsondecode(aws_kms_key.symmetric["logs"].policy).Statement) == 3
    error_message = "With CloudTrail and alarms opted out, the logs key admits only CloudWatch Logs."
  }
}

# Finding 3: with the vault key locked, no IAM policy can grant cryptographic use of it (the
# root statement keeps management only), the vault functions may use it only under the vault's
# contexts, and an explicit Deny refuses everyone else outside DynamoDB's at-rest path.
run "vault_key_is_usable_only_by_the_vault_functions" {
  command = plan

  variables {
    vault_key_policy = {
      crypto_role_arns = [
        "arn:aws:iam::111122223333:role/pay-tokenize-role",
        "arn:aws:iam::111122223333:role/pay-detokenize-role",
        "arn:aws:iam::111122223333:role/pay-vault-admin-role",
      ]
    }
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.symmetric["vault"].policy).Statement :
      !contains(flatten([try(s.Action, [])]), "kms:*") && !contains(flatten([try(s.Action, [])]), "kms:Decrypt") || s.Effect == "Deny" || contains(keys(try(s.Condition, {})), "ArnEquals") || contains(keys(try(s.Condition, {})), "StringEquals")
    ])
    error_message = "No unconditioned statement may allow kms:* or kms:Decrypt on the vault key."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_kms_key.symmetric["vault"].policy).Statement : s.NotAction
      if s.Sid == "AccountRootManagesButCannotUse"
    ]) == local.vault_crypto_actions
    error_message = "The account root (and so IAM) keeps management of the vault key, never cryptographic use."
  }

  assert {
    condition = jsonencode(one([
      for s in jsondecode(aws_kms_key.symmetric["vault"].policy).Statement : s
      if s.Sid == "VaultFunctionsUseUnderVaultContextsOnly"
      ]).Condition) == jsonencode({
      ArnEquals                   = { "aws:PrincipalArn" = var.vault_key_policy.crypto_role_arns }
      StringEquals                = { "kms:EncryptionContext:vault" = ["data-key", "customer-key"] }
      "ForAllValues:StringEquals" = { "kms:EncryptionContextKeys" = ["vault", "tenant_id"] }
    })
    error_message = "The vault functions use the key only under the vault's encryption contexts."
  }

  assert {
    condition = jsonencode(one([
      for s in jsondecode(aws_kms_key.symmetric["vault"].policy).Statement : s
      if s.Sid == "DenyCryptoToAnyoneElse"
      ])) == jsonencode({
      Sid       = "DenyCryptoToAnyoneElse"
      Effect    = "Deny"
      Principal = { AWS = "*" }
      Action    = local.vault_crypto_actions
      Resource  = "*"
      Condition = {
        ArnNotEquals            = { "aws:PrincipalArn" = var.vault_key_policy.crypto_role_arns }
        StringNotEqualsIfExists = { "kms:ViaService" = "dynamodb.eu-west-1.amazonaws.com" }
        BoolIfExists            = { "aws:PrincipalIsAWSService" = "false" }
      }
    })
    error_message = "Everyone but the vault functions is denied cryptographic use outside DynamoDB's at-rest path."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_kms_key.symmetric["vault"].policy).Statement : s.Condition
      if s.Sid == "DenyGrantsExceptForAwsResources"
    ]) == { Bool = { "kms:GrantIsForAWSResource" = "false" } }
    error_message = "No grant on the vault key except for AWS resources (a grant would bypass the policy)."
  }

  assert {
    condition     = length([for s in jsondecode(aws_kms_key.symmetric["application"].policy).Statement : s if s.Sid == "EnableAccountRootAndIamPolicies"]) == 1
    error_message = "Only the vault key is locked; the other keys keep their policies."
  }
}

# Unsafe inputs are refused. Each run starts the provider, so a run sets one refused value for
# each of several variables and expects each of them to fail (terraform test fails the run if
# any listed variable does not). Two values of one variable need two runs, and Terraform does
# not check a variable whose rules read a refused variable: the key_users and vault_key_policy
# rules read key_administrator_arns, so they keep the file's administrator. The comment above
# each value names the rule it exercises.
run "unsafe_inputs_are_refused_1" {
  command = plan

  variables {
    # a cryptoperiod over a year is refused
    cryptoperiod_days = 400
    # a short deletion window is refused
    deletion_window_in_days = 5
    # missing administrators are refused
    key_administrator_arns = []
    # a reserved alias prefix is refused
    alias_prefix = "alias/aws/payments"
  }

  expect_failures = [
    var.cryptoperiod_days,
    var.deletion_window_in_days,
    var.key_administrator_arns,
    var.alias_prefix,
  ]
}

run "unsafe_inputs_are_refused_2" {
  command = plan

  variables {
    # a cryptoperiod under 90 days is refused
    cryptoperiod_days = 30
    # root as administrator is refused
    key_administrator_arns = ["arn:aws:iam::111122223333:root"]
  }

  expect_failures = [
    var.cryptoperiod_days,
    var.key_administrator_arns,
  ]
}

run "unsafe_inputs_are_refused_3" {
  command = plan

  variables {
    # a wildcard key user is refused
    key_users = {
      vault_decrypt = ["*"]
    }
    # --- vault key users that are administrators are refused
    vault_key_policy = { crypto_role_arns = ["arn:aws:iam::111122223333:role/key-admin"] }
  }

  expect_failures = [
    var.key_users,
    var.vault_key_policy,
  ]
}

run "refuses_administrator_who_is_also_a_user" {
  command = plan

  variables {
    key_users = {
      vault_decrypt = ["arn:aws:iam::111122223333:role/key-admin"]
    }
  }

  expect_failures = [var.key_users]
}
