# Unit tests of the API's edge (api_domain.tf, api_throttling.tf): plan only, mocked provider.
# With a custom domain the API answers only through it, under TLS_1_2, and its default
# execute-api endpoint (whose TLS policy cannot be chosen) is disabled; without one the default
# endpoint stays open, and a half-given domain is refused. Each merchant tier is a usage plan on
# the stage, the authorizer supplies the key every merchant route requires, and a throttled
# merchant is told when to retry. The run without a domain is payment_workflow.tftest.hcl's
# the_module_with_its_defaults: each run starts the provider, so runs with the same inputs are
# shared.

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
    target = aws_api_gateway_rest_api.this
    values = { id = "abc123", execution_arn = "arn:aws:execute-api:eu-west-1:111122223333:abc123" }
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

run "a_custom_domain_serves_tls_1_2_only_and_closes_the_default_endpoint" {
  command = plan

  variables {
    api_domain_name     = "api.payments.example.com"
    api_certificate_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-1111-2222-3333-444455556666"
  }

  assert {
    condition     = aws_api_gateway_domain_name.this[0].security_policy == "TLS_1_2"
    error_message = "The custom domain must refuse TLS 1.0 and 1.1 (security_policy TLS_1_2)."
  }
  assert {
    condition = (
      one(aws_api_gateway_domain_name.this[0].endpoint_configuration[0].types) == "REGIONAL" &&
      aws_api_gateway_domain_name.this[0].regional_certificate_arn == var.api_certificate_arn &&
      aws_api_gateway_domain_name.this[0].certificate_arn == null
    )
    error_message = "The domain is REGIONAL, like the API, with the given certificate of the API's Region."
  }
  assert {
    condition     = aws_api_gateway_rest_api.this.disable_execute_api_endpoint == true
    error_message = "With a custom domain the default execute-api endpoint (TLS 1.0 and up) must be disabled."
  }
  assert {
    condition = (
      aws_api_gateway_base_path_mapping.this[0].domain_name == "api.payments.example.com" &&
      aws_api_gateway_base_path_mapping.this[0].stage_name == "v1" &&
      aws_api_gateway_base_path_mapping.this[0].base_path == null
    )
    error_message = "The v1 stage is mapped at the domain's root, so a route keeps its /v1 path."
  }
  assert {
    condition     = output.api_url == "https://api.payments.example.com" && output.api_domain.domain_name == "api.payments.example.com"
    error_message = "Clients are given the domain's URL: the default endpoint no longer answers."
  }
}

run "each_tier_is_a_usage_plan_on_the_stage_and_merchant_routes_require_its_key" {
  command = plan

  variables {
    merchant_usage_plans = {
      standard = { rate_limit = 50, burst_limit = 100 }
      capped   = { rate_limit = 5, burst_limit = 10, quota = { limit = 10000, period = "DAY" } }
    }
  }

  assert {
    condition     = aws_api_gateway_rest_api.this.api_key_source == "AUTHORIZER"
    error_message = "The merchant's usage key comes from the authorizer, never from a client header."
  }
  assert {
    condition = alltrue([for k, m in aws_api_gateway_method.this :
      m.api_key_required == (m.authorization == "CUSTOM")
    ])
    error_message = "Every merchant route (the authorizer's) requires the usage key; the IAM routes (the platform's own roles) none."
  }
  assert {
    condition = (
      aws_api_gateway_usage_plan.merchant["standard"].throttle_settings[0].rate_limit == 50 &&
      aws_api_gateway_usage_plan.merchant["standard"].throttle_settings[0].burst_limit == 100 &&
      length(aws_api_gateway_usage_plan.merchant["standard"].quota_settings) == 0 &&
      aws_api_gateway_usage_plan.merchant["capped"].quota_settings[0].limit == 10000 &&
      aws_api_gateway_usage_plan.merchant["capped"].quota_settings[0].period == "DAY"
    )
    error_message = "Each tier's plan carries its rate, burst and, when given, its quota."
  }
  assert {
    condition = alltrue([for p in aws_api_gateway_usage_plan.merchant :
      one(p.api_stages).api_id == "abc123" && one(p.api_stages).stage == "v1"
    ])
    error_message = "Every plan applies to this API's v1 stage."
  }
  assert {
    condition     = aws_api_gateway_gateway_response.this["THROTTLED"].response_parameters["gatewayresponse.header.Retry-After"] == "'1'"
    error_message = "A throttled merchant is told when to retry (Retry-After)."
  }
}

# Refusals share runs, one bad value per variable: each run starts the provider, while a
# validation needs no plan of its own. A domain without its certificate is refused in
# payment_workflow.tftest.hcl's bad_values_are_refused_2.
run "a_url_is_no_domain_name_and_an_unknown_quota_period_is_refused" {
  command = plan

  variables {
    # a url is no domain name
    api_domain_name     = "https://api.payments.example.com/"
    api_certificate_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-1111-2222-3333-444455556666"
    # a quota period api gateway does not know is refused
    merchant_usage_plans = { standard = { rate_limit = 50, burst_limit = 100, quota = { limit = 10, period = "HOUR" } } }
  }

  expect_failures = [var.api_domain_name, var.merchant_usage_plans]
}

run "a_certificate_outside_acm_and_a_plan_set_without_the_standard_tier_are_refused" {
  command = plan

  variables {
    # a certificate outside acm is refused
    api_domain_name     = "api.payments.example.com"
    api_certificate_arn = "arn:aws:iam::111122223333:server-certificate/api"
    # a plan set without the standard tier is refused
    merchant_usage_plans = { gold = { rate_limit = 50, burst_limit = 100 } }
  }

  expect_failures = [var.api_certificate_arn, var.merchant_usage_plans]
}
