# Unit tests of the http acquirer connector's wiring (acquirer.tf): the functions that talk to
# the acquirer get its address and may read its one secret; the simulator gets neither. The two
# runs use a bare mock provider, as they assert locals only. A connector without its API, a
# plain-http API or a wildcard secret is refused in payment_workflow.tftest.hcl's
# bad_values_are_refused_2 and _3 (and http without acquirer_vpc_config in _3): each run starts
# the provider, so refusals share runs.

mock_provider "aws" {}

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

run "the_http_connector_reaches_the_acquirer_functions_with_its_one_secret" {
  command = plan

  variables {
    acquirer_connector = "http"
    acquirer_http = {
      base_url              = "https://api.acquirer.example/v1"
      credential_secret_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:pay/acquirer-AbCdEf"
    }
    acquirer_vpc_config = {
      subnet_ids         = ["subnet-acq1", "subnet-acq2"]
      security_group_ids = ["sg-acquirer"]
    }
  }

  assert {
    condition = (
      local.step_vpc_config.process_payment == var.acquirer_vpc_config &&
      local.step_vpc_config.reconcile == var.acquirer_vpc_config &&
      local.step_vpc_config.settle == var.acquirer_vpc_config &&
      local.step_vpc_config.assess_risk == var.vpc_config
    )
    error_message = "Only the functions that call the acquirer run in the acquirer tier; the others stay in the data subnets, which have no way out."
  }

  assert {
    condition = alltrue([
      for env in [local.process_payment_environment, local.reconcile_environment, local.settle_environment] :
      env.ACQUIRER_CONNECTOR == "http" && env.ACQUIRER_BASE_URL == "https://api.acquirer.example/v1" &&
      env.ACQUIRER_CREDENTIAL_SECRET_ARN == var.acquirer_http.credential_secret_arn
    ])
    error_message = "process_payment, reconcile and settle get ACQUIRER_CONNECTOR=http, the API's base URL and the secret's ARN."
  }

  assert {
    condition = alltrue([
      for fn in ["process_payment", "reconcile", "settle"] : [
        for s in local.step_functions[fn].statements : { actions = s.actions, resources = s.resources }
        if s.sid == "ReadAcquirerCredential"
      ] == [{ actions = ["secretsmanager:GetSecretValue"], resources = [var.acquirer_http.credential_secret_arn] }]
      ]) && alltrue([
      for fn in ["assess_risk"] : !anytrue([for s in local.step_functions[fn].statements : s.sid == "ReadAcquirerCredential"])
    ])
    error_message = "Only the acquirer's callers (process_payment, reconcile, settle) may read its secret, and that secret only."
  }

  assert {
    condition = one([
      for s in local.acquirer_credential_statements : s.conditions if s.sid == "ApplicationKeyViaSecretsManager"
      ]) == [
      { test = "StringEquals", variable = "kms:ViaService", values = ["secretsmanager.${local.region}.amazonaws.com"] },
      { test = "StringEquals", variable = "kms:EncryptionContext:SecretARN", values = [var.acquirer_http.credential_secret_arn] },
    ]
    error_message = "The application key decrypts the secret through Secrets Manager, for that secret only."
  }
}

run "the_simulator_gets_no_acquirer_address_or_secret" {
  command = plan

  variables {
    acquirer_http = {
      base_url              = "https://api.acquirer.example/v1"
      credential_secret_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:pay/acquirer-AbCdEf"
    }
  }

  assert {
    condition     = local.acquirer_credential_statements == [] && !contains(keys(local.process_payment_environment), "ACQUIRER_BASE_URL")
    error_message = "With the simulator, acquirer_http is ignored: no address, no secret grant."
  }

  assert {
    condition     = alltrue([for name, config in local.step_vpc_config : config == var.vpc_config])
    error_message = "With the simulator every function stays in the data subnets."
  }
}
