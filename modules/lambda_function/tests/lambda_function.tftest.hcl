# Unit tests: plan only, against a mocked AWS provider. They assert the security properties every
# Lambda in the blueprint inherits, and that unsafe inputs are refused.
#
# filename points at tests/fixtures/handler.py: the plan only hashes the file
# (filebase64sha256), nothing is uploaded under the mock, and zips are never committed.

mock_provider "aws" {
  override_during = plan

  override_data {
    target = data.aws_caller_identity.current
    values = {
      account_id = "111122223333"
    }
  }
  override_data {
    target = data.aws_partition.current
    values = {
      partition = "aws"
    }
  }
  override_data {
    target = data.aws_region.current
    values = {
      id   = "eu-west-1"
      name = "eu-west-1"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:111122223333:tokenize-failures"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/tokenize-role"
    }
  }
}

variables {
  name            = "tokenize"
  filename        = "tests/fixtures/handler.py"
  handler         = "functions.handlers.tokenize.handler"
  kms_key_arn     = "arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111"
  log_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/22222222-2222-2222-2222-222222222222"
  vpc_config = {
    subnet_ids         = ["subnet-aaaa", "subnet-bbbb"]
    security_group_ids = ["sg-1111"]
  }
  environment_variables = {
    VAULT_TABLE = "vault"
  }
  alarm_sns_topic_arn = "arn:aws:sns:eu-west-1:111122223333:alarms"
  policy_statements = [
    {
      sid       = "VaultWrite"
      actions   = ["dynamodb:PutItem"]
      resources = ["arn:aws:dynamodb:eu-west-1:111122223333:table/vault"]
      conditions = [
        { test = "ForAllValues:StringEquals", variable = "dynamodb:LeadingKeys", values = ["tok_"] },
      ]
    },
    {
      actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
      resources = ["arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333"]
    },
  ]
}

# Each run starts the provider, so the properties that need no inputs of their own share one
# plan; each "---" heading is one property, and an assertion's error message names what failed.
run "the_function_with_the_defaults" {
  command = plan

  # --- function has secure defaults
  assert {
    condition     = aws_lambda_function.this.runtime == "python3.12" && aws_lambda_function.this.timeout == 10 && aws_lambda_function.this.memory_size == 256
    error_message = "Defaults must be python3.12, 10 s timeout, 256 MB."
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing must be Active."
  }

  assert {
    condition     = aws_lambda_function.this.kms_key_arn == var.kms_key_arn
    error_message = "Environment variables must be encrypted with the customer-managed key."
  }

  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("tests/fixtures/handler.py")
    error_message = "source_code_hash must be filebase64sha256(filename) so a rebuilt zip redeploys and an unchanged one does not."
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 10
    error_message = "Concurrency must be reserved (and capped) by default."
  }

  assert {
    condition     = aws_lambda_function.this.vpc_config[0].subnet_ids == toset(["subnet-aaaa", "subnet-bbbb"]) && aws_lambda_function.this.vpc_config[0].security_group_ids == toset(["sg-1111"])
    error_message = "The function must run in the given private subnets and security groups."
  }

  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      VAULT_TABLE                  = "vault"
      POWERTOOLS_SERVICE_NAME      = "tokenize"
      POWERTOOLS_LOG_LEVEL         = "WARNING"
      POWERTOOLS_METRICS_NAMESPACE = "Payments"
    })
    error_message = "The environment must carry the caller's variables plus the Powertools settings (log level WARNING by default)."
  }

  # --- logs are json without platform lines by default
  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_format == "JSON"
    error_message = "Logs must use the JSON format (log levels only apply to it)."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_group == aws_cloudwatch_log_group.this.name
    error_message = "Lambda must write into the module's encrypted log group, never one it creates itself."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].system_log_level == "WARN"
    error_message = "System logs default to WARN: no START/END/REPORT records per invocation."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].application_log_level == "WARN" && aws_lambda_function.this.environment[0].variables["POWERTOOLS_LOG_LEVEL"] == "WARNING"
    error_message = "The application log level must be WARN, Lambda's name for the Powertools default WARNING."
  }

  # --- logs are encrypted and kept a year
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/tokenize"
    error_message = "The log group must be /aws/lambda/<name> so Lambda writes into it."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == var.log_kms_key_arn && aws_cloudwatch_log_group.this.retention_in_days == 365
    error_message = "The log group must be KMS-encrypted and retained for at least 365 days."
  }

  # --- async failures go to encrypted queue
  assert {
    condition     = aws_lambda_function_event_invoke_config.this.destination_config[0].on_failure[0].destination == "arn:aws:sqs:eu-west-1:111122223333:tokenize-failures"
    error_message = "Failed asynchronous invocations must go to the on-failure queue."
  }

  assert {
    condition     = aws_sqs_queue.failures[0].kms_master_key_id == var.kms_key_arn
    error_message = "The on-failure queue must be encrypted with the customer-managed key."
  }

  assert {
    condition     = jsondecode(aws_sqs_queue_policy.failures[0].policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false" && jsondecode(aws_sqs_queue_policy.failures[0].policy).Statement[0].Effect == "Deny"
    error_message = "The on-failure queue must refuse non-TLS access."
  }

  # Finding 11: every use of the key is through the service that needs it, for this function's
  # own resource; no statement lets the role call KMS on the key directly.
  assert {
    condition = {
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid => s.Condition if contains(s.Resource, var.kms_key_arn)
      } == {
      DecryptOwnEnvironment = {
        StringEquals = { "kms:ViaService" = "lambda.eu-west-1.amazonaws.com" }
        ArnLike = { "kms:EncryptionContext:aws:lambda:FunctionArn" = [
          "arn:aws:lambda:eu-west-1:111122223333:function:tokenize",
          "arn:aws:lambda:eu-west-1:111122223333:function:tokenize:*",
        ] }
      }
      EncryptOwnFailureQueue = {
        StringEquals = {
          "kms:ViaService"                    = "sqs.eu-west-1.amazonaws.com"
          "kms:EncryptionContext:aws:sqs:arn" = "arn:aws:sqs:eu-west-1:111122223333:tokenize-failures"
        }
      }
    }
    error_message = "The key is used only by Lambda for this function's environment and by SQS for its own failure queue."
  }

  # --- only this function of this account may assume the role
  # Finding 11: the execution role's trust names Lambda only, for this function of this account
  # (IfExists: see iam.tf for why).
  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition == {
      StringEqualsIfExists = { "aws:SourceAccount" = "111122223333" }
      ArnLikeIfExists = { "aws:SourceArn" = [
        "arn:aws:lambda:eu-west-1:111122223333:function:tokenize",
        "arn:aws:lambda:eu-west-1:111122223333:function:tokenize:*",
      ] }
    }
    error_message = "The trust policy must carry aws:SourceAccount and aws:SourceArn conditions naming this account and function."
  }

  assert {
    condition     = length(jsondecode(aws_iam_role.this.assume_role_policy).Statement) == 1
    error_message = "One trust statement only (another, unconditioned, would widen the trust)."
  }

  # --- alarms on errors and throttles
  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset(["errors", "throttles"])
    error_message = "Expected an errors alarm and a throttles alarm."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset(["arn:aws:sns:eu-west-1:111122223333:alarms"]) && a.dimensions.FunctionName == "tokenize"])
    error_message = "Alarms must watch this function and notify the SNS topic."
  }

  # --- role is least privilege
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement :
      !contains(s.Action, "*") && alltrue([for a in s.Action : !endswith(a, ":*")])
    ])
    error_message = "No statement may carry a wildcard action."
  }

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : [
        for a in s.Action : !contains(s.Resource, "*") if contains(["kms", "dynamodb", "s3", "sqs", "logs"], split(":", a)[0])
      ]
    ]))
    error_message = "kms, dynamodb, s3, sqs and logs actions must be scoped to named resources."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Sid == "WriteOwnLogGroup"
    ]).Resource == ["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/tokenize:*"]
    error_message = "The function may only write to its own log group."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Sid == "VaultWrite"
    ]).Condition["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"] == ["tok_"]
    error_message = "Caller statements must keep their conditions."
  }

  assert {
    condition = alltrue([
      for r in one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Sid == "ManageNetworkInterfacesInOwnSubnets"]).Resource :
      r != "*"
    ])
    error_message = "ENI management must be scoped to the function's subnets and security groups."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com"
    error_message = "Only the Lambda service may assume the role."
  }
}

run "log_level_is_warning_unless_a_caller_asks_for_more" {
  command = plan

  variables {
    powertools = { log_level = "INFO" }
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["POWERTOOLS_LOG_LEVEL"] == "INFO"
    error_message = "A caller can still opt in to INFO (or DEBUG) explicitly."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].application_log_level == "INFO"
    error_message = "Lambda's application log level must follow the Powertools level."
  }
}

run "application_log_level_maps_every_powertools_level" {
  command = plan

  variables {
    powertools = { log_level = "CRITICAL" }
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].application_log_level == "FATAL"
    error_message = "CRITICAL must map to Lambda's FATAL."
  }
}

run "system_logs_on_request_for_debugging" {
  command = plan

  variables {
    system_log_level = "INFO"
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].system_log_level == "INFO"
    error_message = "A caller can bring the platform records back with INFO (or DEBUG)."
  }
}

# Finding 11: a function that sees card data had a 14-day on-failure queue, which would keep the
# card number and CVC of any failed asynchronous invocation. Such functions turn it off: no
# queue, no grant to send to one, no destination, and async events are not kept or retried.
run "card_data_functions_keep_no_failed_events" {
  command = plan

  variables {
    failure_queue_enabled = false
    async_invoke          = { maximum_retry_attempts = 0, maximum_event_age_in_seconds = 60 }
  }

  assert {
    condition     = length(aws_sqs_queue.failures) == 0 && length(aws_sqs_queue_policy.failures) == 0
    error_message = "No on-failure queue for a function that sees card data."
  }

  assert {
    condition     = length(aws_lambda_function_event_invoke_config.this.destination_config) == 0
    error_message = "No asynchronous destination for a function that sees card data."
  }

  assert {
    condition     = aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 0 && aws_lambda_function_event_invoke_config.this.maximum_event_age_in_seconds == 60
    error_message = "Asynchronous events of such a function are neither retried nor held for long."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement :
      !anytrue([for a in s.Action : startswith(a, "sqs:")])
    ])
    error_message = "Without a queue the role may not send to one."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Action if contains(s.Resource, var.kms_key_arn)
    ]) == ["kms:Decrypt"]
    error_message = "Without a queue the environment key is for decrypting the environment only."
  }

  assert {
    condition     = output.failure_queue_arn == null && output.failure_queue_url == null
    error_message = "The queue outputs are null without a queue."
  }
}

run "outside_a_vpc_only_when_asked_explicitly" {
  command = plan

  variables {
    vpc_config = null
  }

  assert {
    condition     = length(aws_lambda_function.this.vpc_config) == 0
    error_message = "vpc_config = null must run the function outside a VPC."
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if startswith(s.Sid, "ManageNetworkInterfaces") || startswith(s.Sid, "DescribeNetworkInterfaces")]) == 0
    error_message = "Without a VPC the role must not get ENI permissions."
  }
}

# Every variable's validation refuses its bad values. Each run below sets one refused value
# for each of several variables and expects every one of them to fail (terraform test fails
# the run if any listed variable does not), so one plan of the whole module checks
# several rules at once; the comment above each value names the rule it exercises.
run "bad_values_are_refused_1" {
  command = plan

  variables {
    # refuses wildcard service actions
    policy_statements = [
      { actions = ["dynamodb:*"], resources = ["arn:aws:dynamodb:eu-west-1:111122223333:table/vault"] },
    ]
    # refuses unknown log level
    powertools = { log_level = "VERBOSE" }
    # refuses unknown system log level
    system_log_level = "ERROR"
    # refuses unsupported runtime
    runtime = "python3.8"
    # refuses short log retention
    log_retention_in_days = 90
    # refuses bad timeout
    timeout = 901
    # refuses unreserved concurrency
    reserved_concurrent_executions = -1
    # refuses reserved environment names
    environment_variables = {
      POWERTOOLS_LOG_LEVEL = "DEBUG"
    }
    # refuses single subnet
    vpc_config = {
      subnet_ids         = ["subnet-aaaa"]
      security_group_ids = ["sg-1111"]
    }
    # refuses alias as key
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/aws/lambda"
  }

  expect_failures = [
    var.policy_statements,
    var.powertools,
    var.system_log_level,
    var.runtime,
    var.log_retention_in_days,
    var.timeout,
    var.reserved_concurrent_executions,
    var.environment_variables,
    var.vpc_config,
    var.kms_key_arn,
  ]
}

run "bad_values_are_refused_2" {
  command = plan

  variables {
    # refuses star action
    policy_statements = [
      { actions = ["*"], resources = ["arn:aws:s3:::lake/*"] },
    ]
  }

  expect_failures = [
    var.policy_statements,
  ]
}

run "bad_values_are_refused_3" {
  command = plan

  variables {
    # refuses star resource for kms
    policy_statements = [
      { actions = ["kms:Decrypt"], resources = ["*"] },
    ]
  }

  expect_failures = [
    var.policy_statements,
  ]
}
