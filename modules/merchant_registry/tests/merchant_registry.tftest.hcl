# Unit tests: plan only, against a mocked AWS provider. They assert what protects the merchants'
# credentials (the customer key, point-in-time recovery, deletion protection), the authorizer's
# least privilege (one GetItem on the registry, its key only through DynamoDB for this table),
# the invoke permission scoped to the API's authorizers, and that bad inputs are refused.

mock_provider "aws" {
  override_during = plan

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "111122223333" }
  }
  override_data {
    target = data.aws_region.current
    values = { id = "eu-west-1", name = "eu-west-1" }
  }
  override_resource {
    target = aws_dynamodb_table.this
    values = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-merchants" }
  }
  override_resource {
    target = module.authorizer.aws_lambda_function.this
    values = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:pay-merchant-authorizer" }
  }
  override_resource {
    target = module.authorizer.aws_cloudwatch_log_group.this
    values = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/pay-merchant-authorizer" }
  }
  override_resource {
    target = module.authorizer.aws_iam_role.this
    values = { arn = "arn:aws:iam::111122223333:role/pay-merchant-authorizer-role" }
  }
}

variables {
  name_prefix      = "pay"
  environment      = "dev"
  lambda_package   = "tests/fixtures/package.py"
  data_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  logs_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/66666666-7777-8888-9999-000000000000"
  vpc_config = {
    subnet_ids         = ["subnet-a", "subnet-b"]
    security_group_ids = ["sg-1"]
  }
  api_gateway = { execution_arn = "arn:aws:execute-api:eu-west-1:111122223333:abc123" }
}

# Each run starts the provider, so the properties that need no inputs of their own share one
# plan; each "---" heading is one property, and an assertion's error message names what failed.
run "the_registry_with_the_defaults" {
  command = plan

  # --- the registry is encrypted with the customer key recoverable and protected
  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled && aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.data_kms_key_arn
    error_message = "The registry must be encrypted with the customer-managed application key."
  }
  assert {
    condition     = aws_dynamodb_table.this.point_in_time_recovery[0].enabled
    error_message = "The registry needs point-in-time recovery."
  }
  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "Deletion protection is on by default."
  }
  assert {
    condition     = one(aws_dynamodb_table.this.global_secondary_index).hash_key == "key_owner"
    error_message = "The registry's one index lists a merchant's keys by key_owner (the adapter's layout)."
  }

  # --- the authorizer reads one key item and nothing else
  assert {
    condition     = [for s in local.authorizer_statements : s.actions] == [["dynamodb:GetItem"], ["kms:Decrypt"]]
    error_message = "The authorizer may GetItem on the registry and decrypt its key through DynamoDB, nothing more."
  }
  assert {
    condition = alltrue([for s in local.authorizer_statements :
      length([for c in s.conditions : c if c.variable == "kms:ViaService"]) == 1 if startswith(s.actions[0], "kms:")
    ])
    error_message = "The key is used through DynamoDB only."
  }
  assert {
    condition     = local.authorizer_statements[0].resources == [aws_dynamodb_table.this.arn]
    error_message = "GetItem on the registry table only (not its index, not another table)."
  }
  assert {
    condition     = module.authorizer.function_name == "pay-merchant-authorizer"
    error_message = "The platform names the authorizer by convention (<prefix>-merchant-authorizer) for payment_workflow's authorizer_uri."
  }

  # --- api gateway may invoke it for this api s authorizers only
  assert {
    condition     = aws_lambda_permission.api[0].source_arn == "arn:aws:execute-api:eu-west-1:111122223333:abc123/authorizers/*"
    error_message = "The invoke permission is scoped to the API's authorizers."
  }
  assert {
    condition     = aws_lambda_permission.api[0].principal == "apigateway.amazonaws.com"
    error_message = "Only API Gateway may invoke the authorizer."
  }

  # --- without usage plans no item is written
  assert {
    condition     = length(aws_dynamodb_table_item.usage_plans) == 0
    error_message = "No plans, no config item."
  }
}

run "keys_are_live_in_prod_and_test_elsewhere" {
  command = plan

  variables {
    environment = "prod"
  }

  assert {
    condition     = local.authorizer_environment.PAYMENTS_ENVIRONMENT == "prod"
    error_message = "The authorizer reads the environment to accept sk_live_ keys in prod only."
  }
}

run "the_usage_plans_of_the_tiers_are_written_where_onboarding_reads_them" {
  command = plan

  variables {
    usage_plans = { standard = "plan1", high_volume = "plan2" }
  }

  assert {
    condition = jsondecode(aws_dynamodb_table_item.usage_plans[0].item) == {
      pk    = { S = "config#usage_plans" }
      plans = { M = { standard = { S = "plan1" }, high_volume = { S = "plan2" } } }
    }
    error_message = "The config#usage_plans item maps each tier to its plan id (functions/adapters/merchant_registry_table.py reads it)."
  }
}

# Bad inputs are refused. Each run starts the provider, so one run sets a refused value for each
# of several variables and expects each of them to fail (terraform test fails the run if any
# listed variable does not); the comment above each value names the rule it exercises.
run "bad_inputs_are_refused" {
  command = plan

  variables {
    # a disabled authorizer concurrency is refused
    authorizer = { reserved_concurrency = 0 }
    # an api that is not an execution arn is refused
    api_gateway = { execution_arn = "arn:aws:apigateway:eu-west-1::/restapis/abc123" }
    # a tier that is not the registry's form is refused
    usage_plans = { "High Volume" = "plan2" }
  }

  expect_failures = [
    var.authorizer,
    var.api_gateway,
    var.usage_plans,
  ]
}
