# Unit tests: prod refuses the simulated card network (the acquirer simulator and the simulated
# 3-D Secure server) unless allow_simulated_card_network_in_prod says so. Validation runs before
# any resource is planned, so the refusals cost no module plan; the one run that plans (the
# override) uses a bare mock provider, as it asserts only that the refusal is lifted.

mock_provider "aws" {}

variables {
  name_prefix      = "pay"
  environment      = "prod"
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

run "prod_refuses_the_acquirer_simulator_and_the_simulated_acs" {
  command = plan

  expect_failures = [var.allow_simulated_card_network_in_prod]
}

run "prod_refuses_them_when_the_override_is_explicitly_false" {
  command = plan

  variables {
    allow_simulated_card_network_in_prod = false
  }

  expect_failures = [var.allow_simulated_card_network_in_prod]
}

run "the_loudly_named_override_lets_a_prod_rehearsal_plan" {
  command = plan

  variables {
    allow_simulated_card_network_in_prod = true
  }

  assert {
    condition     = local.process_payment_environment.ACQUIRER_CONNECTOR == "simulator"
    error_message = "With the override, prod plans with the simulator."
  }
}
