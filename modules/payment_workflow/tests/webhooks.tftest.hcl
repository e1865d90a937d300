# Unit tests of the webhook endpoint routes (webhooks_api.tf): plan only, mocked provider. With
# var.webhooks the five routes sit behind the merchant authorizer and integrate the webhooks API
# function, whose invoke permission is modules/webhooks' (output webhook_routes); without it the
# API has none of them. The run without var.webhooks is payment_workflow.tftest.hcl's
# the_module_with_its_defaults, and the refused webhooks function its bad_values_are_refused_2:
# each run starts the provider, so runs with the same inputs are shared.

mock_provider "aws" {
  override_during = plan

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "111122223333" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  override_data {
    target = data.aws_region.current
    values = { id = "eu-west-1", name = "eu-west-1" }
  }

  override_resource {
    target = aws_api_gateway_authorizer.merchant
    values = { id = "auth123" }
  }
  override_resource {
    target = aws_dynamodb_table.payments
    values = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments" }
  }
  override_resource {
    target = aws_dynamodb_table.idempotency
    values = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-idempotency" }
  }
  override_resource {
    target = aws_dynamodb_table.ledger
    values = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-ledger" }
  }
  override_resource {
    target = aws_sfn_state_machine.payment
    values = { arn = "arn:aws:states:eu-west-1:111122223333:stateMachine:pay-payment" }
  }
  override_resource {
    target = aws_cloudwatch_event_bus.payments
    values = { arn = "arn:aws:events:eu-west-1:111122223333:event-bus/pay-payments" }
  }
  override_resource {
    target = aws_cloudwatch_log_group.payment_events
    values = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/events/pay-payment-events" }
  }
  override_resource {
    target = aws_cloudwatch_log_group.workflow
    values = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/vendedlogs/states/pay-payment-workflow" }
  }
  override_resource {
    target = aws_cloudwatch_event_rule.payment_events
    values = { arn = "arn:aws:events:eu-west-1:111122223333:rule/pay-payments/pay-payment-events-to-logs" }
  }
  override_resource {
    target = aws_api_gateway_rest_api.this
    values = { execution_arn = "arn:aws:execute-api:eu-west-1:111122223333:abc123" }
  }
  override_resource {
    target = aws_api_gateway_request_validator.body
    values = { id = "validator1" }
  }
  override_resource {
    target = aws_cloudwatch_log_group.api_access
    values = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/apigateway/pay-api/access" }
  }
  override_resource {
    target = aws_api_gateway_stage.v1
    values = { arn = "arn:aws:apigateway:eu-west-1::/restapis/abc123/stages/v1" }
  }
  override_resource {
    target = module.step["assess_risk"].aws_lambda_function.this
    values = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:pay-assess-risk" }
  }
  override_resource {
    target = module.step["process_payment"].aws_lambda_function.this
    values = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:pay-process-payment" }
  }
  override_resource {
    target = module.step["reconcile"].aws_lambda_function.this
    values = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:pay-reconcile" }
  }
  override_resource {
    target = module.step["settle"].aws_lambda_function.this
    values = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:pay-settle" }
  }
  override_resource {
    target = module.payments_api.aws_lambda_function.this
    values = {
      arn        = "arn:aws:lambda:eu-west-1:111122223333:function:pay-payments-api"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:pay-payments-api/invocations"
    }
  }
}

variables {
  name_prefix      = "pay"
  environment      = "dev"
  lambda_package   = "tests/fixtures/package.py"
  data_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333"
  logs_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/44444444-4444-4444-4444-444444444444"
  vpc_config = {
    subnet_ids         = ["subnet-aaaa", "subnet-bbbb"]
    security_group_ids = ["sg-1111"]
  }
  alarm_sns_topic_arn      = "arn:aws:sns:eu-west-1:111122223333:pay-alarms"
  tokenize_function_arn    = "arn:aws:lambda:eu-west-1:111122223333:function:pay-tokenize"
  tokenize_function_name   = "pay-tokenize"
  tokenize_invoke_arn      = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:pay-tokenize/invocations"
  detokenize_function_name = "pay-detokenize"
  detokenize_invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:pay-detokenize/invocations"
  merchant_authorizer = {
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:pay-merchant-authorizer/invocations"
  }
}

run "the_webhook_routes_take_api_keys_and_reach_the_webhooks_function" {
  command = plan

  variables {
    webhooks = {
      api_function_name = "pay-webhooks-api"
      api_invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:pay-webhooks-api/invocations"
    }
  }

  assert {
    condition = alltrue([
      for k in ["create_webhook_endpoint", "list_webhook_endpoints", "delete_webhook_endpoint", "rotate_webhook_secret", "list_webhook_deliveries"] :
      aws_api_gateway_method.this[k].authorization == "CUSTOM" && aws_api_gateway_integration.this[k].uri == var.webhooks.api_invoke_arn && !contains(keys(aws_lambda_permission.api), k)
    ])
    error_message = "Every webhook route must go through the merchant authorizer and integrate the webhooks API function; its invoke permission is modules/webhooks'."
  }

  assert {
    condition     = output.webhook_routes.delete_webhook_endpoint == { method = "DELETE", path = "/v1/webhook_endpoints/{endpoint_id}" } && length(output.webhook_routes) == 5
    error_message = "webhook_routes gives the caller every webhook route's method and path."
  }

  assert {
    condition     = aws_api_gateway_method.this["rotate_webhook_secret"].request_parameters["method.request.path.endpoint_id"]
    error_message = "The endpoint id is a required path parameter."
  }
}
