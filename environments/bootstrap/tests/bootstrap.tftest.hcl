# Unit tests: plan only, against a mocked AWS provider. They assert what keeps the deploy path
# safe: the OIDC trust of each deploy role (exact audience, exact repository and environment
# subject, in both of GitHub's subject formats), the state bucket's protections, the split
# between the plan and apply roles, and that unsafe inputs are refused.

mock_provider "aws" {
  override_during = plan

  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
}

override_resource {
  target          = aws_iam_openid_connect_provider.github
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com" }
}

override_resource {
  target          = aws_s3_bucket.state
  override_during = plan
  values = {
    id  = "payments-tfstate-111122223333-eu-west-1"
    arn = "arn:aws:s3:::payments-tfstate-111122223333-eu-west-1"
  }
}

override_resource {
  target          = aws_kms_key.state
  override_during = plan
  values = {
    arn    = "arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111"
    key_id = "11111111-1111-1111-1111-111111111111"
  }
}

override_resource {
  target          = aws_iam_role.key_administrator
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/payments-key-admin" }
}

override_resource {
  target          = aws_iam_role.api_gateway_cloudwatch
  override_during = plan
  values = {
    arn  = "arn:aws:iam::111122223333:role/payments-apigateway-logs-eu-west-1"
    name = "payments-apigateway-logs-eu-west-1"
  }
}

variables {
  account_id   = "111122223333"
  region       = "eu-west-1"
  owner        = "payments-platform"
  environments = { dev = {}, prod = { apply_github_environment = "production" } }
  github       = { owner = "acme", repository = "payments" }
  key_administrator_trusted_principals = [
    "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_KeyAdmin_0123456789abcdef",
  ]
}

# Each run starts the provider, so the properties that need no inputs of their own share one
# plan; each "---" heading is one property, and an assertion's error message names what failed.
run "the_bootstrap_with_the_defaults" {
  command = plan

  # --- deploy roles trust one repository environment and the sts audience
  assert {
    condition = alltrue([for key, role in aws_iam_role.deploy : (
      length(jsondecode(role.assume_role_policy).Statement) == 1 &&
      jsondecode(role.assume_role_policy).Statement[0].Effect == "Allow" &&
      jsondecode(role.assume_role_policy).Statement[0].Action == "sts:AssumeRoleWithWebIdentity" &&
      jsondecode(role.assume_role_policy).Statement[0].Principal == { Federated = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com" } &&
      keys(jsondecode(role.assume_role_policy).Statement[0].Condition) == ["StringEquals"] &&
      jsondecode(role.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    )])
    error_message = "Every deploy role must trust only GitHub's OIDC provider, through StringEquals (no StringLike), with aud = sts.amazonaws.com."
  }

  assert {
    condition = {
      for key, role in aws_iam_role.deploy : key => jsondecode(role.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"]
      } == {
      "dev-plan"   = ["repo:acme/payments:environment:dev-plan"]
      "dev-apply"  = ["repo:acme/payments:environment:dev"]
      "prod-plan"  = ["repo:acme/payments:environment:prod-plan"]
      "prod-apply" = ["repo:acme/payments:environment:production"]
    }
    error_message = "Each role must accept exactly its repository and GitHub environment: the apply role the protected one, the plan role <env>-plan (so a pull request's job cannot assume the apply role)."
  }

  assert {
    condition     = aws_iam_openid_connect_provider.github[0].url == "https://token.actions.githubusercontent.com" && aws_iam_openid_connect_provider.github[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "The OIDC provider must be GitHub Actions' issuer with the sts.amazonaws.com audience only."
  }

  # --- state bucket is private versioned encrypted and tls only
  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.state.block_public_acls,
      aws_s3_bucket_public_access_block.state.block_public_policy,
      aws_s3_bucket_public_access_block.state.ignore_public_acls,
      aws_s3_bucket_public_access_block.state.restrict_public_buckets,
    ])
    error_message = "All four public access blocks must be on."
  }

  assert {
    condition     = aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled"
    error_message = "The state bucket must be versioned: old versions are the way back after a bad apply."
  }

  assert {
    condition = anytrue([for rule in aws_s3_bucket_server_side_encryption_configuration.state.rule : (
      rule.apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" &&
      rule.apply_server_side_encryption_by_default[0].kms_master_key_id == "arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111"
    )])
    error_message = "State must be encrypted with the bootstrap's customer managed key."
  }

  assert {
    condition     = aws_kms_key.state.enable_key_rotation
    error_message = "The state key must rotate."
  }

  assert {
    condition = anytrue([for statement in jsondecode(aws_s3_bucket_policy.state.policy).Statement : (
      statement.Effect == "Deny" && statement.Principal == "*" && statement.Action == "s3:*" &&
      statement.Condition == { Bool = { "aws:SecureTransport" = "false" } } &&
      toset(flatten([statement.Resource])) == toset(["arn:aws:s3:::payments-tfstate-111122223333-eu-west-1", "arn:aws:s3:::payments-tfstate-111122223333-eu-west-1/*"])
    )])
    error_message = "The bucket policy must deny every request without TLS, on the bucket and on its objects."
  }

  assert {
    condition     = !anytrue([for statement in jsondecode(aws_s3_bucket_policy.state.policy).Statement : statement.Effect == "Allow"])
    error_message = "The bucket policy grants nothing: access comes from the deploy roles' own policies."
  }

  assert {
    condition = anytrue([for rule in aws_s3_bucket_lifecycle_configuration.state.rule : (
      rule.status == "Enabled" &&
      rule.noncurrent_version_expiration[0].noncurrent_days == 90 &&
      rule.noncurrent_version_expiration[0].newer_noncurrent_versions == 20
    )])
    error_message = "Old state versions must expire after 90 days, the newest 20 kept."
  }

  assert {
    condition     = strcontains(output.backend_hcl["dev"], "bucket     = \"payments-tfstate-111122223333-eu-west-1\"") && strcontains(output.backend_hcl["dev"], "kms_key_id = \"arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111\"")
    error_message = "backend.hcl must name the state bucket and the state key by ARN (the bucket policy compares the ARN)."
  }

  # --- plan role cannot write state apply role can
  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.deploy_state["dev-plan"].policy).Statement : statement.Action
    if statement.Resource == "arn:aws:s3:::payments-tfstate-111122223333-eu-west-1/payments-blueprint/dev/terraform.tfstate"] == [["s3:GetObject"]]
    error_message = "The plan role may only read its environment's state (it writes the lock file only)."
  }

  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.deploy_state["dev-apply"].policy).Statement : statement.Action
    if statement.Resource == "arn:aws:s3:::payments-tfstate-111122223333-eu-west-1/payments-blueprint/dev/terraform.tfstate"] == [["s3:GetObject", "s3:PutObject"]]
    error_message = "The apply role reads and writes its environment's state."
  }

  assert {
    condition     = !anytrue([for statement in jsondecode(aws_iam_role_policy.deploy_state["dev-apply"].policy).Statement : strcontains(jsonencode(statement.Resource), "/prod/")])
    error_message = "An environment's roles must not reach another environment's state."
  }

  assert {
    condition     = keys(aws_iam_role_policy.deploy_apply) == ["dev-apply", "prod-apply"]
    error_message = "Only the apply roles get write permissions."
  }

  # --- deploy roles decrypt only configuration through lambda and step functions
  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.deploy_state["dev-plan"].policy).Statement : statement.Condition
      if statement.Effect == "Allow" && contains(flatten([statement.Action]), "kms:Decrypt") && statement.Resource != "arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111"] == [{
        StringEquals = {
          "kms:ViaService"              = ["lambda.eu-west-1.amazonaws.com", "states.eu-west-1.amazonaws.com"]
          "aws:ResourceTag/Environment" = "dev"
        }
    }]
    error_message = "Outside the state key, a deploy role may decrypt only through Lambda and Step Functions, only this environment's keys."
  }

  # --- apply role is scoped not admin
  assert {
    condition = alltrue([for statement in jsondecode(aws_iam_role_policy.deploy_apply["dev-apply"].policy).Statement : (
      !contains(flatten([statement.Action]), "*") && !contains(flatten([statement.Action]), "iam:*") && !contains(flatten([statement.Action]), "kms:*")
    )])
    error_message = "The apply role must not be granted *, iam:* or kms:*."
  }

  assert {
    condition = alltrue([for statement in jsondecode(aws_iam_role_policy.deploy_apply["dev-apply"].policy).Statement : (
      statement.Effect == "Deny" || flatten([statement.Resource]) != ["*"] || can(statement.Condition)
    )])
    error_message = "Every Allow on Resource \"*\" must carry a condition (region, request tag or function)."
  }

  assert {
    condition = alltrue([for statement in jsondecode(aws_iam_role_policy.deploy_apply["dev-apply"].policy).Statement : alltrue([
      for resource in flatten([statement.Resource]) : resource == "*" || strcontains(resource, "payments-dev") || strcontains(resource, ":key/*") || strcontains(resource, "aws-service-role") || endswith(resource, "::/account")
    ])])
    error_message = "Every named resource of dev's apply role must carry dev's name prefix."
  }

  assert {
    condition = anytrue([for statement in jsondecode(aws_iam_role_policy.deploy_guardrails["dev-apply"].policy).Statement : (
      statement.Effect == "Deny" && contains(flatten([try(statement.Resource, [])]), "arn:aws:iam::111122223333:role/payments-key-admin") && contains(flatten([try(statement.Resource, [])]), "arn:aws:iam::111122223333:role/payments-github-*")
    )])
    error_message = "The deploy roles must be refused changes to the key administrator role and to the deploy roles themselves."
  }

  assert {
    condition = anytrue([for statement in jsondecode(aws_iam_role_policy.deploy_guardrails["dev-plan"].policy).Statement : (
      statement.Effect == "Deny" && contains(flatten([statement.Action]), "dynamodb:GetItem") && contains(flatten([statement.Action]), "secretsmanager:GetSecretValue")
    )])
    error_message = "ReadOnlyAccess reads items and secrets: the plan role must be refused them."
  }

  # --- deploy roles inline policies fit iams quota
  # IAM refuses a role whose inline policies exceed 10,240 characters together (whitespace
  # not counted; jsonencode writes none).
  assert {
    condition = alltrue([for key, role in local.deploy_roles : (
      length(aws_iam_role_policy.deploy_guardrails[key].policy) +
      length(aws_iam_role_policy.deploy_state[key].policy) +
      (role.kind == "apply" ? length(aws_iam_role_policy.deploy_apply[key].policy) : 0)
    ) < 10240])
    error_message = "A deploy role's inline policies exceed IAM's 10,240-character quota."
  }

  # --- key administrator and api gateway logging exist before any environment
  assert {
    condition     = aws_iam_role.key_administrator.name == "payments-key-admin" && jsonencode(jsondecode(aws_iam_role.key_administrator.assume_role_policy).Statement[0].Principal.AWS) == jsonencode(var.key_administrator_trusted_principals)
    error_message = "The key administrator role is the one the environments' tfvars name, assumable only by the listed principals."
  }

  assert {
    condition = length(setintersection(
      toset(flatten([for statement in jsondecode(aws_iam_role_policy.key_administrator.policy).Statement : statement.Action])),
      toset(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant", "kms:*"])
    )) == 0
    error_message = "The key administrator manages keys and cannot use them (or grant their use)."
  }

  assert {
    condition     = aws_api_gateway_account.this.cloudwatch_role_arn == "arn:aws:iam::111122223333:role/payments-apigateway-logs-eu-west-1"
    error_message = "API Gateway's account settings must name the CloudWatch Logs role, or stages with logging fail to create."
  }
}

run "immutable_subject_format_names_the_owner_and_repository_ids" {
  command = plan

  variables {
    github                = { owner = "acme", repository = "payments", owner_id = 1234, repository_id = 5678 }
    github_subject_format = "immutable"
  }

  assert {
    condition     = jsondecode(aws_iam_role.deploy["dev-apply"].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == ["repo:acme@1234/payments@5678:environment:dev"]
    error_message = "The immutable format is repo:<owner>@<owner_id>/<repo>@<repo_id>:environment:<env>, and only it is accepted."
  }
}

run "both_subject_formats_during_the_switch_over" {
  command = plan

  variables {
    github                = { owner = "acme", repository = "payments", owner_id = 1234, repository_id = 5678 }
    github_subject_format = "both"
  }

  assert {
    condition = jsondecode(aws_iam_role.deploy["dev-plan"].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == [
      "repo:acme/payments:environment:dev-plan",
      "repo:acme@1234/payments@5678:environment:dev-plan",
    ]
    error_message = "\"both\" must accept the name and the immutable subject of the same environment, nothing else."
  }
}

# Unsafe inputs are refused. Each run starts the provider, so a run sets one refused value for
# each of several variables and expects each of them to fail (terraform test fails the run if
# any listed variable does not). Two values of one variable need two runs, and the subject
# format's rule reads github, so the refused repository is not beside it; the comment above
# each value names the rule it exercises.
run "unsafe_inputs_are_refused_1" {
  command = plan

  variables {
    # the immutable format without the owner and repository ids is refused
    github_subject_format = "immutable"
    # a wildcard github environment is refused
    environments = { dev = { apply_github_environment = "*" } }
    # a too short state version retention is refused
    state_noncurrent_version_days = 7
    # a wildcard key administrator is refused
    key_administrator_trusted_principals = ["arn:aws:iam::111122223333:role/*"]
  }

  expect_failures = [
    var.github_subject_format,
    var.environments,
    var.state_noncurrent_version_days,
    var.key_administrator_trusted_principals,
  ]
}

run "unsafe_inputs_are_refused_2" {
  command = plan

  variables {
    # a wildcard repository is refused
    github = { owner = "acme", repository = "*" }
    # an unknown environment is refused
    environments = { qa = {} }
  }

  expect_failures = [
    var.github,
    var.environments,
  ]
}
