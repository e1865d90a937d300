# Unit tests: plan only, against a mocked AWS provider. They assert what protects the merchants'
# endpoints and secrets (the customer key on the table and both queues, point-in-time recovery,
# TTL on the log), that only the webhook rule may feed the events queue, the functions' least
# privilege, the delivery function outside the cardholder-data VPC, the invoke permissions
# scoped to the webhook routes, and that the local-only opt-outs are refused elsewhere.

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
    values = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-webhooks" }
  }
  override_resource {
    target = aws_sqs_queue.this["events"]
    values = { arn = "arn:aws:sqs:eu-west-1:111122223333:pay-webhook-events", url = "https://sqs.eu-west-1.amazonaws.com/111122223333/pay-webhook-events" }
  }
  override_resource {
    target = aws_sqs_queue.this["deliveries"]
    values = { arn = "arn:aws:sqs:eu-west-1:111122223333:pay-webhook-deliveries", url = "https://sqs.eu-west-1.amazonaws.com/111122223333/pay-webhook-deliveries" }
  }
  override_resource {
    target = aws_sqs_queue.dead_letter["events"]
    values = { arn = "arn:aws:sqs:eu-west-1:111122223333:pay-webhook-events-dlq" }
  }
  override_resource {
    target = aws_sqs_queue.dead_letter["deliveries"]
    values = { arn = "arn:aws:sqs:eu-west-1:111122223333:pay-webhook-deliveries-dlq" }
  }
  override_resource {
    target = aws_cloudwatch_event_rule.this
    values = { arn = "arn:aws:events:eu-west-1:111122223333:rule/pay-events/pay-webhook-events" }
  }
  override_resource {
    target = module.api.aws_lambda_function.this
    values = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:pay-webhooks-api" }
  }
  override_resource {
    target = module.delivery.aws_lambda_function.this
    values = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:pay-webhook-delivery" }
  }
  override_resource {
    target = module.api.aws_cloudwatch_log_group.this
    values = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/pay-webhooks-api" }
  }
  override_resource {
    target = module.delivery.aws_cloudwatch_log_group.this
    values = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/pay-webhook-delivery" }
  }
  override_resource {
    target = module.api.aws_iam_role.this
    values = { arn = "arn:aws:iam::111122223333:role/pay-webhooks-api-role" }
  }
  override_resource {
    target = module.delivery.aws_iam_role.this
    values = { arn = "arn:aws:iam::111122223333:role/pay-webhook-delivery-role" }
  }
}

variables {
  name_prefix      = "pay"
  environment      = "prod"
  lambda_package   = "tests/fixtures/package.py"
  data_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  logs_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/66666666-7777-8888-9999-000000000000"
  vpc_config = {
    subnet_ids         = ["subnet-a", "subnet-b"]
    security_group_ids = ["sg-1"]
  }
  event_bus = {
    name                  = "pay-events"
    arn                   = "arn:aws:events:eu-west-1:111122223333:event-bus/pay-events"
    dead_letter_queue_arn = "arn:aws:sqs:eu-west-1:111122223333:pay-events-dlq"
  }
  api_gateway = {
    execution_arn = "arn:aws:execute-api:eu-west-1:111122223333:abc123"
    routes = {
      create_webhook_endpoint = { method = "POST", path = "/v1/webhook_endpoints" }
      rotate_webhook_secret   = { method = "POST", path = "/v1/webhook_endpoints/{endpoint_id}/rotate_secret" }
    }
  }
}

# Each run starts the provider, so the properties that need no inputs of their own share one
# plan; each "---" heading is one property, and an assertion's error message names what failed.
run "the_webhooks_with_the_defaults" {
  command = plan

  # --- endpoints secrets and queues are under the customer key
  assert {
    condition     = one(aws_cloudwatch_event_target.this.dead_letter_config).arn == "arn:aws:sqs:eu-west-1:111122223333:pay-events-dlq"
    error_message = "Events the rule could not put on the webhook queue go to the payment bus's dead-letter queue."
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled && aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.data_kms_key_arn
    error_message = "The endpoints table must be encrypted with the customer-managed application key."
  }
  assert {
    condition     = aws_dynamodb_table.this.point_in_time_recovery[0].enabled && aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "The endpoints table needs point-in-time recovery and deletion protection."
  }
  assert {
    condition     = aws_dynamodb_table.this.ttl[0].enabled && aws_dynamodb_table.this.ttl[0].attribute_name == "expires_at"
    error_message = "The delivery log must expire through the table's TTL."
  }
  assert {
    condition     = alltrue([for q in merge(aws_sqs_queue.this, aws_sqs_queue.dead_letter) : q.kms_master_key_id == var.data_kms_key_arn])
    error_message = "Every webhook queue must be encrypted with the customer-managed key."
  }
  assert {
    condition     = alltrue([for q in aws_sqs_queue.this : jsondecode(q.redrive_policy).maxReceiveCount > 0])
    error_message = "Every webhook queue needs a dead-letter queue."
  }

  # --- only the webhook rule feeds the events queue over tls
  assert {
    condition = one([
      for s in jsondecode(aws_sqs_queue_policy.this["events"].policy).Statement : s
      if s.Effect == "Allow"
    ]).Condition.ArnEquals["aws:SourceArn"] == "arn:aws:events:eu-west-1:111122223333:rule/pay-events/pay-webhook-events"
    error_message = "Only the webhook rule may send to the events queue."
  }
  assert {
    condition     = length([for s in jsondecode(aws_sqs_queue_policy.this["deliveries"].policy).Statement : s if s.Effect == "Allow"]) == 0
    error_message = "No service may send to the delivery queue through its policy: only the delivery function's role does."
  }
  assert {
    condition = alltrue([
      for p in merge(aws_sqs_queue_policy.this, aws_sqs_queue_policy.dead_letter) :
      contains([for s in jsondecode(p.policy).Statement : s.Sid], "DenyInsecureTransport")
    ])
    error_message = "Every webhook queue must refuse requests without TLS."
  }
  assert {
    condition     = toset(jsondecode(aws_cloudwatch_event_rule.this.event_pattern).source) == toset(["blueprint.payments", "blueprint.fraud", "blueprint.credit"])
    error_message = "The rule must take every payment, fraud and BNPL event."
  }

  # --- the delivery function runs outside the cardholder data vpc and the api inside
  assert {
    condition     = local.vpc_configs.delivery == null
    error_message = "The delivery function calls the internet: it must not run in the cardholder-data VPC."
  }
  assert {
    condition     = local.vpc_configs.api == var.vpc_config
    error_message = "The API function runs in the VPC it is given."
  }

  # --- the functions may only use what they need
  assert {
    condition     = !contains(flatten([for s in local.delivery_statements : s.actions]), "kms:Encrypt")
    error_message = "The delivery function opens secrets; it never seals one."
  }
  assert {
    condition     = length([for a in flatten([for s in local.api_statements : s.actions]) : a if startswith(a, "sqs:")]) == 0
    error_message = "The API function does not touch the queues."
  }
  assert {
    condition = alltrue([
      for s in local.api_statements :
      contains([for c in s.conditions : c.variable], "kms:EncryptionContext:purpose") if contains(s.actions, "kms:Encrypt")
    ])
    error_message = "The API function may seal only under the webhook secrets' encryption context."
  }
  assert {
    condition     = !contains(flatten([for s in local.delivery_statements : s.actions]), "dynamodb:DeleteItem")
    error_message = "The delivery function deletes nothing."
  }

  # --- api gateway may invoke the api function for the webhook routes only
  assert {
    condition     = aws_lambda_permission.api["rotate_webhook_secret"].source_arn == "arn:aws:execute-api:eu-west-1:111122223333:abc123/*/POST/v1/webhook_endpoints/*/rotate_secret"
    error_message = "The permission must be scoped to the route's method and path."
  }
  assert {
    condition     = length(aws_lambda_permission.api) == 2
    error_message = "One permission per route given."
  }

  # --- prod delivers over https to public hosts only
  assert {
    condition     = local.delivery_environment.WEBHOOK_ALLOW_HTTP == "false" && local.delivery_environment.WEBHOOK_ALLOW_PRIVATE_ADDRESSES == "false"
    error_message = "By default deliveries go over https to public hosts only."
  }
}

run "the_local_environment_may_reach_its_test_receiver" {
  command = plan

  variables {
    environment     = "local"
    endpoint_policy = { allow_http = true, allow_private_addresses = true }
  }

  assert {
    condition     = local.delivery_environment.WEBHOOK_ALLOW_HTTP == "true"
    error_message = "The local opt-out must reach the delivery function."
  }
}

# Unsafe inputs are refused. Each run starts the provider, so one run sets a refused value for
# each of several variables and expects each of them to fail (terraform test fails the run if
# any listed variable does not); the comment above each value names the rule it exercises.
run "unsafe_inputs_are_refused" {
  command = plan

  variables {
    # --- the local opt-outs are refused outside local (the file's environment)
    endpoint_policy = { allow_http = true, allow_private_addresses = true }
    # --- retries are bounded
    retry = { give_up_after_hours = 100 }
    # --- a batch of slow endpoints ends before the function
    delivery = { http_timeout_seconds = 20, batch_size = 5, timeout = 60 }
  }

  expect_failures = [
    var.endpoint_policy,
    var.retry,
    var.delivery,
  ]
}
