# Unit tests: plan only, against a mocked AWS provider. They assert what protects the decision
# records and the plans (the customer key, point-in-time recovery, deletion protection, no TTL on
# the audit trail), the API's least privilege, the credit policy reaching the function, and that
# bad inputs are refused.

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
    target = aws_dynamodb_table.decisions
    values = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-credit-decisions" }
  }
  override_resource {
    target = aws_dynamodb_table.plans
    values = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-bnpl-plans" }
  }
  override_resource {
    target = aws_dynamodb_table.ledger
    values = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-credit-ledger" }
  }
  override_resource {
    target = module.api.aws_lambda_function.this
    values = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:pay-credit-api" }
  }
  override_resource {
    target = module.api.aws_sqs_queue.failures
    values = { arn = "arn:aws:sqs:eu-west-1:111122223333:pay-credit-api-failures" }
  }
  override_resource {
    target = module.api.aws_cloudwatch_log_group.this
    values = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/pay-credit-api" }
  }
  override_resource {
    target = module.api.aws_iam_role.this
    values = { arn = "arn:aws:iam::111122223333:role/pay-credit-api-role" }
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
  credit_policy = {
    EUR = { min_amount = 3000, max_amount = 200000, customer_limit = 300000, merchant_limit = 50000000, living_costs_buffer = 80000 }
  }
}

# Each run starts the provider, so the properties that need no inputs of their own share one
# plan; each "---" heading is one property, and an assertion's error message names what failed.
run "the_module_with_the_defaults" {
  command = plan

  # --- tables are encrypted with the customer key recoverable and protected
  assert {
    condition = alltrue([for t in [aws_dynamodb_table.decisions, aws_dynamodb_table.plans] :
      t.server_side_encryption[0].enabled && t.server_side_encryption[0].kms_key_arn == var.data_kms_key_arn
    ])
    error_message = "Both tables must be encrypted with the customer-managed application key."
  }
  assert {
    condition     = aws_dynamodb_table.decisions.point_in_time_recovery[0].enabled && aws_dynamodb_table.plans.point_in_time_recovery[0].enabled
    error_message = "Both tables need point-in-time recovery."
  }
  assert {
    condition     = aws_dynamodb_table.decisions.deletion_protection_enabled && aws_dynamodb_table.plans.deletion_protection_enabled
    error_message = "Deletion protection is on by default."
  }
  assert {
    # The decision records are the audit trail of each creditworthiness assessment.
    condition     = length([for t in aws_dynamodb_table.decisions.ttl : t if t.enabled]) == 0
    error_message = "The decisions table must not expire records by TTL."
  }
  assert {
    condition     = toset([for i in aws_dynamodb_table.plans.global_secondary_index : i.name]) == toset(["customer", "merchant", "due"])
    error_message = "The plans table needs the customer, merchant and due indexes the adapters query."
  }

  # --- the api gets the policy and only what it needs
  assert {
    condition     = jsondecode(local.api_environment.CREDIT_POLICY).EUR.living_costs_buffer == 80000
    error_message = "The credit policy must reach the function as CREDIT_POLICY JSON."
  }
  assert {
    condition     = jsondecode(local.api_environment.CREDIT_REVIEWER_PRINCIPALS) == []
    error_message = "No reviewer by default: reviews are refused until the lender names its reviewers."
  }
  assert {
    condition     = jsondecode(local.api_environment.EUR_RATES).EUR == "1"
    error_message = "EUR_RATES always carries EUR itself."
  }
  assert {
    condition = alltrue(flatten([for s in local.api_statements : [
      for a in s.actions : !endswith(a, ":*") && a != "*" && !contains(["dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:UpdateTable"], a)
    ]]))
    error_message = "No wildcard, delete or scan actions for the credit API."
  }
  assert {
    condition = alltrue([for s in local.api_statements :
      length([for c in s.conditions : c if c.variable == "kms:ViaService"]) == 1 if anytrue([for a in s.actions : startswith(a, "kms:")])
    ])
    error_message = "The key is used through DynamoDB only."
  }
  assert {
    condition     = module.api.function_name == "pay-credit-api"
    error_message = "The function is named <prefix>-credit-api."
  }
}

# BNPL on: the credit ledger like the other tables, the bnpl function's statements within the
# plans, their due index, the ledger and the one bus, the collections schedule with its input.
run "bnpl_adds_the_ledger_the_function_and_the_schedule_with_least_privilege" {
  command = plan

  variables {
    bnpl = {
      event_bus      = { name = "pay-payments", arn = "arn:aws:events:eu-west-1:111122223333:event-bus/pay-payments" }
      payments_table = { name = "pay-payments", arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments" }
    }
    api_gateway = {
      execution_arn = "arn:aws:execute-api:eu-west-1:111122223333:abc123"
      routes = {
        get_bnpl_plan = { method = "GET", path = "/v1/bnpl/plans/{plan_id}" }
      }
    }
  }

  assert {
    condition     = aws_lambda_permission.api["get_bnpl_plan"].source_arn == "arn:aws:execute-api:eu-west-1:111122223333:abc123/*/GET/v1/bnpl/plans/*"
    error_message = "API Gateway may invoke the credit API for each credit route's method and path only."
  }

  assert {
    condition = (
      aws_dynamodb_table.ledger[0].point_in_time_recovery[0].enabled &&
      aws_dynamodb_table.ledger[0].server_side_encryption[0].kms_key_arn == var.data_kms_key_arn &&
      aws_dynamodb_table.ledger[0].deletion_protection_enabled
    )
    error_message = "The credit ledger is encrypted with the customer key, recoverable and protected."
  }
  assert {
    condition = alltrue(flatten([for s in local.bnpl_statements : [
      for r in s.resources : r == var.data_kms_key_arn || r == var.bnpl.event_bus.arn || startswith(r, "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-")
    ]]))
    error_message = "The bnpl statements reach the key, the bus and this module's tables only."
  }
  assert {
    condition = alltrue(flatten([for s in local.bnpl_statements : [
      for a in s.actions : !endswith(a, ":*") && a != "*" && !contains(["dynamodb:DeleteItem", "dynamodb:Scan"], a)
    ]]))
    error_message = "No wildcard, delete or scan actions for checkout and collections."
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.collections[0].input).action == "collect"
    error_message = "The schedule asks the bnpl function for a collections run."
  }
  assert {
    condition     = module.bnpl[0].function_name == "pay-bnpl" && local.bnpl_environment.EVENT_BUS_NAME == "pay-payments"
    error_message = "The bnpl function is <prefix>-bnpl and publishes on the given bus."
  }
  assert {
    condition     = one([for s in local.bnpl_statements : s if s.sid == "PaymentRecords"]).actions == ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"] && one([for s in local.bnpl_statements : s if s.sid == "PaymentRecords"]).resources == [var.bnpl.payments_table.arn] && local.bnpl_environment.PAYMENTS_TABLE_NAME == "pay-payments"
    error_message = "A BNPL payment is recorded in the payments table: get and put on that table only."
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.bnpl_reconcile[0].input) == { action = "reconcile", scheduled = true } && aws_cloudwatch_event_rule.bnpl_reconcile[0].schedule_expression == "rate(1 hour)"
    error_message = "BNPL payments are reconciled against their plans and the credit ledger hourly by default."
  }
  assert {
    condition     = one([for s in local.bnpl_statements : s if s.sid == "PaymentsByUpdate"]).actions == ["dynamodb:Query"] && one([for s in local.bnpl_statements : s if s.sid == "PaymentsByUpdate"]).resources == ["${var.bnpl.payments_table.arn}/index/by_update"]
    error_message = "The BNPL reconciliation reads the payments by their update-time index only: no Scan, no other index."
  }
  assert {
    condition     = aws_cloudwatch_log_metric_filter.bnpl_mismatches[0].log_group_name == module.bnpl[0].log_group_name && aws_cloudwatch_metric_alarm.bnpl_mismatches[0].threshold == 1
    error_message = "A BNPL reconciliation mismatch raises an alarm on its first occurrence."
  }
}

run "late_fees_reach_the_collections_and_every_bnpl_event_is_recorded_encrypted" {
  command = plan

  variables {
    bnpl = {
      event_bus      = { name = "pay-payments", arn = "arn:aws:events:eu-west-1:111122223333:event-bus/pay-payments", dead_letter_queue_arn = "arn:aws:sqs:eu-west-1:111122223333:pay-payments-dlq" }
      payments_table = { name = "pay-payments", arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments" }
      late_fees      = { EUR = { amount = 500, cap = 1000 } }
    }
  }

  assert {
    condition     = one(aws_cloudwatch_event_target.bnpl_events[0].dead_letter_config).arn == "arn:aws:sqs:eu-west-1:111122223333:pay-payments-dlq"
    error_message = "BNPL events the rule could not record go to the payment bus's dead-letter queue."
  }

  assert {
    condition     = jsondecode(local.bnpl_environment.BNPL_COLLECTIONS).late_fees.EUR.cap == 1000
    error_message = "The configured late fees and their cap reach the collections."
  }
  assert {
    condition = (
      jsondecode(aws_cloudwatch_event_rule.bnpl_events[0].event_pattern).source == ["blueprint.credit"] &&
      aws_cloudwatch_event_rule.bnpl_events[0].event_bus_name == "pay-payments" &&
      aws_cloudwatch_log_group.bnpl_events[0].kms_key_id == var.logs_kms_key_arn
    )
    error_message = "Every bnpl.* event on the payment bus is recorded in a log group under the logs key."
  }
}

# Bad inputs are refused. Each run starts the provider, so a run sets one refused value for each
# of several variables and expects each of them to fail (terraform test fails the run if any
# listed variable does not); each refused credit_policy needs a run of its own. The comment
# above each value names the rule it exercises.
run "bad_inputs_are_refused" {
  command = plan

  variables {
    # a late fee above its cap is refused
    bnpl = {
      event_bus      = { name = "pay-payments", arn = "arn:aws:events:eu-west-1:111122223333:event-bus/pay-payments" }
      payments_table = { name = "pay-payments", arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments" }
      late_fees      = { EUR = { amount = 1500, cap = 1000 } }
    }
    # a policy without a living costs buffer is refused
    credit_policy = {
      EUR = { min_amount = 3000, max_amount = 200000, customer_limit = 300000, merchant_limit = 50000000, living_costs_buffer = 0 }
    }
    # a bad rate is refused
    eur_rates = { GBP = "-1" }
    # an alias for the key is refused
    data_kms_key_arn = "alias/aws/dynamodb"
    # a reviewer must be an iam principal: reviewers sign with IAM; merchants hold API keys,
    # which the review route never accepts
    reviewer_principals = ["shop-one"]
  }
  expect_failures = [
    var.bnpl,
    var.credit_policy,
    var.eur_rates,
    var.data_kms_key_arn,
    var.reviewer_principals,
  ]
}

run "a_min_above_the_max_is_refused" {
  command = plan

  variables {
    credit_policy = {
      EUR = { min_amount = 300000, max_amount = 200000, customer_limit = 300000, merchant_limit = 50000000, living_costs_buffer = 80000 }
    }
  }
  expect_failures = [var.credit_policy]
}

run "fractional_minor_units_and_bad_currencies_are_refused" {
  command = plan

  variables {
    credit_policy = {
      euro = { min_amount = 30.5, max_amount = 200000, customer_limit = 300000, merchant_limit = 50000000, living_costs_buffer = 80000 }
    }
  }
  expect_failures = [var.credit_policy]
}
