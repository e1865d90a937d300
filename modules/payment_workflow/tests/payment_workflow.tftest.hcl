# Unit tests: plan only, against a mocked AWS provider. They assert the module's security
# properties (encrypted, recoverable tables; a workflow that never logs execution data; an API
# behind WAF whose merchant routes take API keys through the authorizer and whose detokenize is
# signed with IAM; API Gateway's own refusals in the error shape; least privilege per function and for the
# workflow) and that bad inputs are refused. lambda_package is a stand-in file: the plan only
# hashes it.

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
    target = aws_sqs_queue.event_dead_letters
    values = { arn = "arn:aws:sqs:eu-west-1:111122223333:pay-payments-dlq", name = "pay-payments-dlq" }
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

# Plans are the slow part of this test (each run plans the whole module), so the
# properties that need no particular inputs share one run, and those that set inputs
# (no two the same) share another. Each "---" heading is one property; an assertion's
# error message names what failed.
run "the_module_with_its_defaults" {
  command = plan

  # --- tables are encrypted recoverable and shaped for the adapters
  assert {
    condition = alltrue([
      for t in [aws_dynamodb_table.payments, aws_dynamodb_table.idempotency, aws_dynamodb_table.ledger] :
      t.billing_mode == "PAY_PER_REQUEST" &&
      one(t.server_side_encryption).enabled && one(t.server_side_encryption).kms_key_arn == var.data_kms_key_arn &&
      one(t.point_in_time_recovery).enabled &&
      t.deletion_protection_enabled &&
      t.tags["DataClass"] == "payment-metadata"
    ])
    error_message = "Every table is on demand, encrypted with the application key, with PITR, deletion protection and DataClass = payment-metadata."
  }

  assert {
    condition = (
      aws_dynamodb_table.payments.name == "pay-payments" &&
      aws_dynamodb_table.payments.hash_key == "payment_id" && aws_dynamodb_table.payments.range_key == null &&
      toset([for a in aws_dynamodb_table.payments.attribute : "${a.name}:${a.type}"]) == toset(["payment_id:S", "platform_card_key:S", "device_id:S", "created_at:S", "update_key:S", "updated_at:S", "open_key:S", "open_at:S", "merchant_id:S"])
    )
    error_message = "payments is keyed by payment_id (S) and declares platform_card_key, device_id and created_at for its velocity indexes (cards are counted per card key, not per token: finding 9), update_key, updated_at, open_key and open_at for reconcile's."
  }

  assert {
    condition = toset([
      for g in aws_dynamodb_table.payments.global_secondary_index : "${g.name}:${g.hash_key}:${g.range_key}:${g.projection_type}"
    ]) == toset(["by_card:platform_card_key:created_at:KEYS_ONLY", "by_device:device_id:created_at:KEYS_ONLY", "by_update:update_key:updated_at:ALL", "open_holds:open_key:open_at:ALL", "by_merchant:merchant_id:created_at:KEYS_ONLY"])
    error_message = "payments has GSIs by_card (platform_card_key, created_at) and by_device (device_id, created_at), KEYS_ONLY, reconcile's by_update (update_key, updated_at) and open_holds (open_key, open_at), ALL, and the list's by_merchant (merchant_id, created_at), KEYS_ONLY."
  }

  assert {
    condition = (
      aws_dynamodb_table.idempotency.hash_key == "id" && aws_dynamodb_table.idempotency.range_key == null &&
      one(aws_dynamodb_table.idempotency.ttl).enabled && one(aws_dynamodb_table.idempotency.ttl).attribute_name == "expiration"
    )
    error_message = "idempotency uses the Powertools defaults: key id, TTL on expiration."
  }

  assert {
    condition     = aws_dynamodb_table.ledger.hash_key == "pk" && aws_dynamodb_table.ledger.range_key == "sk" && alltrue([for t in aws_dynamodb_table.ledger.ttl : !t.enabled])
    error_message = "ledger is keyed by pk/sk and never expires."
  }

  assert {
    condition = [
      for g in aws_dynamodb_table.ledger.global_secondary_index : "${g.name}:${g.hash_key}:${g.range_key}:${g.projection_type}"
    ] == ["by_recorded:recorded_key:recorded_at:KEYS_ONLY"]
    error_message = "ledger has one GSI, reconcile's by_recorded (recorded_key, recorded_at), KEYS_ONLY: entries by when they were written, never a Scan."
  }

  # --- workflow logs failures but never execution data
  assert {
    condition = (
      aws_sfn_state_machine.payment.type == "EXPRESS" &&
      one(aws_sfn_state_machine.payment.logging_configuration).include_execution_data == false &&
      one(aws_sfn_state_machine.payment.logging_configuration).level == "ERROR" &&
      one(aws_sfn_state_machine.payment.logging_configuration).log_destination == "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/vendedlogs/states/pay-payment-workflow:*"
    )
    error_message = "The EXPRESS workflow logs its failures (level ERROR) to its own log group and never includes execution data (PCI DSS 3.3.1)."
  }

  assert {
    condition = alltrue([
      for f in [module.payments_api, module.step["assess_risk"], module.step["process_payment"]] :
      f.log_level == "WARNING"
    ])
    error_message = "The hot path's functions log at WARNING by default: INFO adds nothing PCI DSS 10.2 needs."
  }

  assert {
    condition     = one(aws_sfn_state_machine.payment.tracing_configuration).enabled
    error_message = "X-Ray tracing is on."
  }

  assert {
    condition = (
      one(aws_sfn_state_machine.payment.encryption_configuration).type == "CUSTOMER_MANAGED_KMS_KEY" &&
      one(aws_sfn_state_machine.payment.encryption_configuration).kms_key_id == var.data_kms_key_arn
    )
    error_message = "The state machine is encrypted with the application key."
  }

  assert {
    condition     = aws_cloudwatch_log_group.workflow.kms_key_id == var.logs_kms_key_arn && aws_cloudwatch_log_group.workflow.retention_in_days >= 365
    error_message = "The workflow log group is encrypted with the logs key and kept at least a year."
  }

  assert {
    condition = toset([
      for s in jsondecode(aws_sfn_state_machine.payment.definition).States : try(s.Parameters.FunctionName, s.Resource) if s.Type == "Task"
      ]) == toset([
      "arn:aws:lambda:eu-west-1:111122223333:function:pay-tokenize",
      "arn:aws:lambda:eu-west-1:111122223333:function:pay-assess-risk",
      "arn:aws:lambda:eu-west-1:111122223333:function:pay-process-payment",
    ])
    error_message = "The definition's tasks invoke exactly the three step functions, tokenize, assess_risk and process_payment (template variables wired)."
  }

  # --- workflow role is least privilege
  assert {
    condition = toset(one([for s in local.workflow_statements : s.Resource if s.Sid == "InvokeSteps"])) == toset(flatten([
      for name in ["tokenize", "assess-risk", "process-payment"] : [
        "arn:aws:lambda:eu-west-1:111122223333:function:pay-${name}",
        "arn:aws:lambda:eu-west-1:111122223333:function:pay-${name}:*",
      ]
    ]))
    error_message = "The workflow invokes exactly its three steps, tokenize, assess_risk and process_payment (and their versions/aliases): not payments_api, not reconcile."
  }

  assert {
    condition     = length([for s in local.workflow_statements : s if anytrue([for a in s.Action : startswith(a, "events:")])]) == 0
    error_message = "The workflow role publishes no events (no events:* action): process_payment publishes each payment's event, reconcile republishes."
  }

  assert {
    condition     = length([for s in local.workflow_statements : s if anytrue([for a in s.Action : startswith(a, "dynamodb:")])]) == 0
    error_message = "The workflow no longer writes any table: the functions do."
  }

  assert {
    condition = alltrue(flatten([
      for s in local.workflow_statements : [for a in s.Action : a != "*" && !endswith(a, ":*")]
    ]))
    error_message = "No wildcard action in the workflow role."
  }

  assert {
    condition     = one([for s in local.workflow_statements : s.Resource if contains(s.Action, "kms:Decrypt")]) == [var.data_kms_key_arn]
    error_message = "The workflow uses the application key only."
  }

  # Finding 11: the key for this state machine's own data only, not any ciphertext under it.
  assert {
    condition = one([for s in local.workflow_statements : s.Condition if contains(s.Action, "kms:Decrypt")]) == {
      StringEquals = { "kms:EncryptionContext:aws:states:stateMachineArn" = "arn:aws:states:eu-west-1:111122223333:stateMachine:pay-payment" }
    }
    error_message = "The workflow role may use the application key only under its own state machine's encryption context."
  }

  # Real-AWS review finding 6: Step Functions makes the execution logs' data key as this role,
  # under the logs SourceArn context, and only there.
  assert {
    condition = one([for s in local.workflow_statements : s.Condition if s.Sid == "EncryptExecutionLogsForDelivery"]) == {
      StringEquals = { "kms:EncryptionContext:SourceArn" = "arn:aws:logs:eu-west-1:111122223333:*" }
    }
    error_message = "The workflow role makes data keys for its execution logs only under the logs SourceArn context."
  }

  # Finding 11: only the vended-log delivery actions, which have no resource type, stay on "*";
  # the log-group resource policy actions are on this account's and Region's log groups.
  assert {
    condition = (
      toset(flatten([for s in local.workflow_statements : s.Action if contains(s.Resource, "*") && anytrue([for a in s.Action : startswith(a, "logs:")])])) ==
      toset(["logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:UpdateLogDelivery"]) &&
      one([for s in local.workflow_statements : s.Resource if contains(s.Action, "logs:PutResourcePolicy")]) == ["arn:aws:logs:eu-west-1:111122223333:log-group:*"]
    )
    error_message = "Only the log-delivery actions are granted on \"*\"; PutResourcePolicy, DescribeResourcePolicies and DescribeLogGroups are on this account's and Region's log groups."
  }

  # --- functions are least privilege
  # No wildcard action, and every data statement names its resources.
  assert {
    condition = alltrue(flatten([
      for s in concat(local.payments_api_statements, local.assess_risk_statements, local.process_payment_statements, local.reconcile_statements, local.settle_statements) :
      [for a in s.actions : a != "*" && !endswith(a, ":*") && !contains(s.resources, "*")]
    ]))
    error_message = "No function holds a wildcard action or a \"*\" resource."
  }

  # payments_api reads payments but cannot write them; it owns the idempotency records.
  assert {
    condition = (
      length([for s in local.payments_api_statements : s if contains(s.resources, "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments") && anytrue([for a in s.actions : contains(["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], a)])]) == 0 &&
      toset(flatten([for s in local.payments_api_statements : s.actions if contains(s.resources, "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments")])) == toset(["dynamodb:BatchGetItem", "dynamodb:GetItem"])
    )
    error_message = "payments_api may only read the payments table (GetItem, BatchGetItem; no PutItem)."
  }

  assert {
    condition     = toset(flatten([for s in local.payments_api_statements : s.actions if contains(s.resources, "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-idempotency")])) == toset(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"])
    error_message = "payments_api holds Get/Put/Update/DeleteItem on the idempotency table."
  }

  assert {
    condition = (
      one([for s in local.payments_api_statements : s.resources if contains(s.actions, "states:StartSyncExecution")]) == ["arn:aws:states:eu-west-1:111122223333:stateMachine:pay-payment"] &&
      !contains(flatten([for s in local.payments_api_statements : s.actions]), "states:StartExecution")
    )
    error_message = "payments_api may only start the payment state machine, synchronously."
  }

  # payments_api receives card numbers (it validates them on their way to the vault): beyond its
  # reads of payments (one by id, a merchant's list), its idempotency records, the workflow start and the key, it holds nothing.
  assert {
    condition = toset(flatten([
      for s in local.payments_api_statements : [for a in s.actions : [for r in s.resources : "${a} ${r}"]]
      ])) == toset([
      "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments",
      "dynamodb:BatchGetItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments",
      "dynamodb:Query arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments/index/by_merchant",
      "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-idempotency",
      "dynamodb:PutItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-idempotency",
      "dynamodb:UpdateItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-idempotency",
      "dynamodb:DeleteItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-idempotency",
      "states:StartSyncExecution arn:aws:states:eu-west-1:111122223333:stateMachine:pay-payment",
      "kms:Decrypt ${var.data_kms_key_arn}",
      "kms:DescribeKey ${var.data_kms_key_arn}",
      "kms:GenerateDataKey ${var.data_kms_key_arn}",
    ])
    error_message = "payments_api holds only reads of payments (GetItem, BatchGetItem, Query on by_merchant), its idempotency records, StartSyncExecution and the application key: no ledger, no other index, no bus."
  }

  # Only process_payment and reconcile reach the ledger, and nobody else writes it.
  assert {
    condition = alltrue([
      for s in concat(local.payments_api_statements, local.assess_risk_statements) :
      !anytrue([for r in s.resources : startswith(r, "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-ledger")])
    ])
    error_message = "Only process_payment and reconcile may touch the ledger table."
  }

  # process_payment is the hot path's only writer of the ledger (its transactions); it reads and
  # writes the payment record and touches no other table or index.
  assert {
    condition = (
      toset(flatten([for s in local.process_payment_statements : s.actions if contains(s.resources, "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-ledger")])) ==
      toset(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]) &&
      toset(flatten([for s in local.process_payment_statements : s.actions if contains(s.resources, "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments")])) ==
      toset(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]) &&
      toset(flatten([for s in local.process_payment_statements : s.resources if anytrue([for a in s.actions : startswith(a, "dynamodb:")])])) ==
      toset(["arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments", "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-ledger"])
    )
    error_message = "process_payment posts the ledger (transactions) and Get/Put/UpdateItems payments, and nothing else in DynamoDB."
  }

  # assess_risk queries the two payments indexes (velocity) and reads and writes the payment
  # table's items (SCA counters, mandates, agreements); nothing else but the application key.
  assert {
    condition = (
      toset(flatten([
        for s in local.assess_risk_statements : [for a in s.actions : [for r in s.resources : "${a} ${r}"]]
        if anytrue([for a in s.actions : startswith(a, "dynamodb:")])
        ])) == toset([
        "dynamodb:Query arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments/index/by_card",
        "dynamodb:Query arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments/index/by_device",
        "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments",
        "dynamodb:PutItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments",
        "dynamodb:UpdateItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments",
      ]) &&
      alltrue(flatten([for s in local.assess_risk_statements : [for a in s.actions : startswith(a, "dynamodb:") || startswith(a, "kms:")]]))
    )
    error_message = "assess_risk may only Query the by_card and by_device indexes and Get/Put/UpdateItem payments (no Scan, no DeleteItem, no ledger, no bus)."
  }

  # Only process_payment and reconcile publish payment events, each on the payment bus and only
  # with source blueprint.payments (the events:source condition).
  assert {
    condition = alltrue([
      for s in concat(local.payments_api_statements, local.assess_risk_statements) :
      !anytrue([for a in s.actions : startswith(a, "events:")])
    ])
    error_message = "Only process_payment and reconcile may publish payment events."
  }

  assert {
    condition = alltrue([
      for statements in [local.process_payment_statements, local.reconcile_statements] : (
        length([for s in statements : s if anytrue([for a in s.actions : startswith(a, "events:")])]) == 1 &&
        one([for s in statements : s.actions if contains(s.actions, "events:PutEvents")]) == ["events:PutEvents"] &&
        one([for s in statements : s.resources if contains(s.actions, "events:PutEvents")]) == ["arn:aws:events:eu-west-1:111122223333:event-bus/pay-payments"] &&
        one([for s in statements : lookup(s, "conditions", []) if contains(s.actions, "events:PutEvents")]) == [
          { test = "StringEquals", variable = "events:source", values = ["blueprint.payments"] },
        ]
      )
    ])
    error_message = "process_payment and reconcile each publish only on the payment bus, only with events:source = blueprint.payments."
  }

  # reconcile reads payments and writes them only to settle a pending capture or refund or to cancel
  # a stale hold (conditional on the version), repairs the ledger, republishes events, reads the record.
  # It reads by its three indexes and by key, never by Scan (issue 17: reconciliation at volume).
  assert {
    condition = (
      toset(flatten([for s in local.reconcile_statements : s.actions if contains(s.resources, "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments")])) == toset(["dynamodb:GetItem", "dynamodb:PutItem"]) &&
      toset(flatten([for s in local.reconcile_statements : s.resources if contains(s.actions, "dynamodb:Query")])) == toset([
        "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments/index/by_update",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments/index/open_holds",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-ledger",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-ledger/index/by_recorded",
      ]) &&
      !contains(flatten([for s in local.reconcile_statements : s.actions]), "dynamodb:Scan") &&
      one([for s in local.reconcile_statements : s.resources if contains(s.actions, "events:PutEvents")]) == ["arn:aws:events:eu-west-1:111122223333:event-bus/pay-payments"] &&
      toset(one([for s in local.reconcile_statements : s.resources if contains(s.actions, "logs:FilterLogEvents")])) == toset([
        "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/events/pay-payment-events",
        "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/events/pay-payment-events:*",
      ])
    )
    error_message = "reconcile reads payments (PutItem only to settle pending operations and cancel stale holds), publishes on the payment bus and reads the payment event log group only."
  }

  # The alarms on what reconcile finds, on the metrics it emits.
  assert {
    condition = (
      toset([for a in aws_cloudwatch_metric_alarm.reconcile : a.metric_name]) == toset(["mismatches", "stuck_authorizations", "lag_seconds"]) &&
      alltrue([for a in aws_cloudwatch_metric_alarm.reconcile : a.namespace == "pay/ledger" && a.dimensions.service == "reconcile"])
    )
    error_message = "reconcile's mismatches, stuck payments and lag are alarmed on the metrics it emits (namespace <name_prefix>/ledger, dimension service = reconcile)."
  }

  # Only the application key, and only through a service, for this module's own resources
  # (finding 11): DynamoDB for exactly the tables each function reads or writes, Step Functions
  # for the payment state machine (payments_api). No statement lets a function call KMS itself.
  assert {
    condition = {
      for name, statements in {
        payments_api    = local.payments_api_statements
        assess_risk     = local.assess_risk_statements
        process_payment = local.process_payment_statements
        reconcile       = local.reconcile_statements
        settle          = local.settle_statements
        } : name => {
        for s in statements : s.sid => {
          for c in s.conditions : c.variable => c.values
        } if anytrue([for a in s.actions : startswith(a, "kms:")]) && s.resources == [var.data_kms_key_arn]
      }
      } == {
      payments_api = {
        ApplicationKeyViaDynamoDb = {
          "kms:ViaService"                                  = ["dynamodb.eu-west-1.amazonaws.com"]
          "kms:EncryptionContext:aws:dynamodb:tableName"    = ["pay-payments", "pay-idempotency"]
          "kms:EncryptionContext:aws:dynamodb:subscriberId" = ["111122223333"]
        }
        ApplicationKeyViaStepFunctions = {
          "kms:ViaService"                                   = ["states.eu-west-1.amazonaws.com"]
          "kms:EncryptionContext:aws:states:stateMachineArn" = ["arn:aws:states:eu-west-1:111122223333:stateMachine:pay-payment"]
        }
      }
      assess_risk = { ApplicationKeyViaDynamoDb = {
        "kms:ViaService"                                  = ["dynamodb.eu-west-1.amazonaws.com"]
        "kms:EncryptionContext:aws:dynamodb:tableName"    = ["pay-payments"]
        "kms:EncryptionContext:aws:dynamodb:subscriberId" = ["111122223333"]
      } }
      process_payment = { ApplicationKeyViaDynamoDb = {
        "kms:ViaService"                                  = ["dynamodb.eu-west-1.amazonaws.com"]
        "kms:EncryptionContext:aws:dynamodb:tableName"    = ["pay-payments", "pay-ledger"]
        "kms:EncryptionContext:aws:dynamodb:subscriberId" = ["111122223333"]
      } }
      reconcile = { ApplicationKeyViaDynamoDb = {
        "kms:ViaService"                                  = ["dynamodb.eu-west-1.amazonaws.com"]
        "kms:EncryptionContext:aws:dynamodb:tableName"    = ["pay-payments", "pay-ledger"]
        "kms:EncryptionContext:aws:dynamodb:subscriberId" = ["111122223333"]
      } }
      settle = { ApplicationKeyViaDynamoDb = {
        "kms:ViaService"                                  = ["dynamodb.eu-west-1.amazonaws.com"]
        "kms:EncryptionContext:aws:dynamodb:tableName"    = ["pay-payments", "pay-ledger"]
        "kms:EncryptionContext:aws:dynamodb:subscriberId" = ["111122223333"]
      } }
    }
    error_message = "Each function uses the application key only through DynamoDB for its own tables (and payments_api through Step Functions for the payment state machine)."
  }

  assert {
    condition = alltrue([
      for s in concat(local.payments_api_statements, local.assess_risk_statements, local.process_payment_statements, local.reconcile_statements, local.settle_statements) :
      s.resources == [var.data_kms_key_arn] if anytrue([for a in s.actions : startswith(a, "kms:")])
    ])
    error_message = "Functions use only the application key."
  }

  # --- functions are wired and configured
  assert {
    condition = {
      for k, f in local.function_settings : k => "${f.handler}|${f.timeout}"
      } == {
      payments_api    = "functions.handlers.payments_api.handler|25"
      assess_risk     = "functions.handlers.assess_risk.handler|10"
      process_payment = "functions.handlers.process_payment.handler|20"
      reconcile       = "functions.handlers.reconcile.handler|300"
      settle          = "functions.handlers.settle.handler|120"
    }
    error_message = "Handlers and timeouts: payments_api 25 s (under API Gateway's 29 s with a cold start), process_payment 20 s (it waits on the acquirer), assess_risk 10 s, reconcile 300 s (it stops at four fifths and keeps a checkpoint), settle 120 s (it scans the ledger)."
  }

  assert {
    condition     = output.function_names == { for k, f in local.function_settings : k => "pay-${f.service}" }
    error_message = "function_names lists all five functions, named <prefix>-<key with dashes>."
  }

  assert {
    condition = (
      local.payments_api_environment.PAYMENTS_TABLE_NAME == "pay-payments" &&
      local.payments_api_environment.IDEMPOTENCY_TABLE_NAME == "pay-idempotency" &&
      local.payments_api_environment.STATE_MACHINE_ARN == "arn:aws:states:eu-west-1:111122223333:stateMachine:pay-payment" &&
      local.payments_api_environment.MAX_AMOUNT_EUR == "10000" &&
      local.payments_api_environment.MAX_AMOUNT_MINOR_OVERRIDES == "" &&
      local.payments_api_environment.EUR_RATES == jsonencode(var.eur_rates) &&
      local.payments_api_environment.PAYMENTS_ENVIRONMENT == "dev"
    )
    error_message = "payments_api gets its tables, the state machine and the amount limit."
  }

  assert {
    condition = (
      local.assess_risk_environment.FRAUD_RULES == "" &&
      local.assess_risk_environment.IP_COUNTRY_RANGES == "" &&
      local.assess_risk_environment.EUR_RATES == jsonencode(var.eur_rates) &&
      jsondecode(local.assess_risk_environment.EUR_RATES).JPY == 0.0061 &&
      jsondecode(local.assess_risk_environment.EUR_RATES).EUR == 1 &&
      local.assess_risk_environment.ISSUER_COUNTRY_PREFIXES == "" &&
      local.assess_risk_environment.SCA_TRA_FRAUD_RATE_PERCENT == ""
    )
    error_message = "Defaults: no fraud overrides, no IP or BIN data, the EUR rates as JSON, and no TRA exemption (no fraud rate was measured)."
  }

  assert {
    condition = (
      toset(keys(local.assess_risk_environment)) == toset([
        "PAYMENTS_ENVIRONMENT", "PAYMENTS_TABLE_NAME", "FRAUD_RULES", "EUR_RATES", "IP_COUNTRY_RANGES",
        "ISSUER_COUNTRY_PREFIXES", "SCA_TRA_FRAUD_RATE_PERCENT",
      ]) &&
      local.assess_risk_environment.PAYMENTS_TABLE_NAME == "pay-payments"
    )
    error_message = "assess_risk gets the payments table and the fraud and SCA settings, and nothing else (no ledger, no bus, no acquirer)."
  }

  assert {
    condition = (
      local.process_payment_environment.ACQUIRER_CONNECTOR == "simulator" &&
      local.process_payment_environment.ACQUIRER_TIMEOUT_MS == "3000" &&
      local.process_payment_environment.EVENT_BUS_NAME == "pay-payments" &&
      local.process_payment_environment.PAYMENTS_TABLE_NAME == "pay-payments" &&
      local.process_payment_environment.LEDGER_TABLE_NAME == "pay-ledger" &&
      local.process_payment_environment.LEDGER_SHARDS == "8" &&
      local.reconcile_environment.LEDGER_TABLE_NAME == "pay-ledger" &&
      local.reconcile_environment.EVENT_LOG_GROUP_NAME == "/aws/events/pay-payment-events" &&
      local.reconcile_environment.LEDGER_SHARDS == "8" &&
      local.reconcile_environment.ACQUIRER_CONNECTOR == "simulator" &&
      local.reconcile_environment.AUTHORIZATION_VALIDITY_DAYS == "7" &&
      local.reconcile_environment.RECONCILE_REPAIR == "false" &&
      !contains(keys(local.process_payment_environment), "AUTHORIZATION_VALIDITY_DAYS")
    )
    error_message = "process_payment and reconcile get their connector, tables, shards, bus and event record; reconcile (alone) the authorization validity, 7 days by default."
  }

  # Issue 18, finding 11: a kept failed event of payments_api is the card number and CVC, one of
  # the workflow's steps holds first six beside the card key.
  assert {
    condition = (
      module.payments_api.failure_queue_arn == null &&
      module.step["assess_risk"].failure_queue_arn == null &&
      module.step["process_payment"].failure_queue_arn == null &&
      local.no_kept_events == { maximum_retry_attempts = 0, maximum_event_age_in_seconds = 60 }
    )
    error_message = "payments_api, assess_risk and process_payment keep no failed asynchronous event (no queue, no retry, 60 s)."
  }

  assert {
    condition     = local.step_functions.reconcile.keeps_failed_event && local.step_functions.settle.keeps_failed_event
    error_message = "The scheduled functions (their events hold no card data) keep failed events for replay."
  }

  # --- api signs every method and sits behind waf
  assert {
    condition = {
      for k, r in local.api_routes : k => "${r.method} ${r.path}"
      } == {
      tokens          = "POST /v1/tokens"
      detokenize      = "POST /v1/tokens/{token}/detokenize"
      create_payment  = "POST /v1/payments"
      list_payments   = "GET /v1/payments"
      get_payment     = "GET /v1/payments/{payment_id}"
      capture_payment = "POST /v1/payments/{payment_id}/capture"
      refund_payment  = "POST /v1/payments/{payment_id}/refunds"
      resume_payment  = "POST /v1/payments/{payment_id}/resume"
      cancel_payment  = "POST /v1/payments/{payment_id}/cancel"
      openapi         = "GET /v1/openapi.json"
    }
    error_message = "The API serves exactly the v1 routes."
  }

  assert {
    condition     = length(aws_api_gateway_method.this) == length(local.api_routes) && alltrue([for m in aws_api_gateway_method.this : m.request_validator_id == aws_api_gateway_request_validator.body.id])
    error_message = "Every method is validated."
  }

  # --- merchants' routes take an API key through the authorizer; detokenize stays IAM-signed
  assert {
    condition = alltrue([for k, m in aws_api_gateway_method.this :
      k == "detokenize" ? m.authorization == "AWS_IAM" && m.authorizer_id == null : m.authorization == "CUSTOM" && m.authorizer_id == aws_api_gateway_authorizer.merchant.id
    ])
    error_message = "Detokenize must be signed with IAM (no API key reaches it); every other route goes through the merchant authorizer."
  }
  assert {
    condition = (
      aws_api_gateway_authorizer.merchant.type == "REQUEST" &&
      aws_api_gateway_authorizer.merchant.identity_source == "method.request.header.Authorization" &&
      aws_api_gateway_authorizer.merchant.authorizer_result_ttl_in_seconds == 300 &&
      aws_api_gateway_authorizer.merchant.authorizer_uri == var.merchant_authorizer.invoke_arn
    )
    error_message = "The merchant authorizer reads the Authorization header and caches its answer 300 s by default."
  }

  # --- API Gateway's own refusals answer in the API's error shape
  assert {
    condition = alltrue([for t in ["UNAUTHORIZED", "ACCESS_DENIED", "WAF_FILTERED", "THROTTLED", "MISSING_AUTHENTICATION_TOKEN", "BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS", "DEFAULT_4XX", "DEFAULT_5XX", "AUTHORIZER_FAILURE", "INTEGRATION_TIMEOUT"] :
      keys(jsondecode(aws_api_gateway_gateway_response.this[t].response_templates["application/json"]).error) == ["code", "message", "param", "type"]
    ])
    error_message = "Every gateway response must be {error: {type, code, message, param}}."
  }
  assert {
    condition = (
      aws_api_gateway_gateway_response.this["UNAUTHORIZED"].status_code == "401" &&
      jsondecode(aws_api_gateway_gateway_response.this["UNAUTHORIZED"].response_templates["application/json"]).error.param == "Authorization" &&
      aws_api_gateway_gateway_response.this["THROTTLED"].status_code == "429" &&
      jsondecode(aws_api_gateway_gateway_response.this["BAD_REQUEST_PARAMETERS"].response_templates["application/json"]).error.param == "Idempotency-Key"
    )
    error_message = "A refused key is a 401 naming Authorization, throttling a 429, a missing Idempotency-Key a 400 naming it."
  }

  assert {
    condition     = aws_api_gateway_request_validator.body.validate_request_parameters && var.request_body_validation == "function"
    error_message = "The request validator checks the required parameters; the functions check bodies unless request_body_validation says gateway."
  }

  assert {
    condition = (
      aws_api_gateway_method.this["create_payment"].request_parameters["method.request.header.Idempotency-Key"] &&
      aws_api_gateway_method.this["refund_payment"].request_parameters["method.request.header.Idempotency-Key"] &&
      aws_api_gateway_method.this["get_payment"].request_parameters["method.request.path.payment_id"] &&
      aws_api_gateway_method.this["cancel_payment"].request_parameters["method.request.path.payment_id"] &&
      length(aws_api_gateway_method.this["cancel_payment"].request_parameters) == 1
    )
    error_message = "POST /v1/payments and refunds require the Idempotency-Key header (cancel takes it optionally, as capture does); payment routes name payment_id."
  }

  assert {
    condition = alltrue([for k, i in aws_api_gateway_integration.this : i.type == "AWS_PROXY" && i.integration_http_method == "POST"]) && (
      aws_api_gateway_integration.this["tokens"].uri == var.tokenize_invoke_arn &&
      aws_api_gateway_integration.this["detokenize"].uri == var.detokenize_invoke_arn &&
      alltrue([for k in ["create_payment", "list_payments", "get_payment", "capture_payment", "refund_payment", "resume_payment", "cancel_payment"] : strcontains(aws_api_gateway_integration.this[k].uri, "function:pay-payments-api/invocations")])
    )
    error_message = "Every route is an AWS_PROXY integration: tokens -> tokenize, detokenize -> detokenize, payments -> payments_api."
  }

  assert {
    condition = (
      aws_lambda_permission.api["capture_payment"].source_arn == "arn:aws:execute-api:eu-west-1:111122223333:abc123/*/POST/v1/payments/*/capture" &&
      aws_lambda_permission.api["cancel_payment"].source_arn == "arn:aws:execute-api:eu-west-1:111122223333:abc123/*/POST/v1/payments/*/cancel" &&
      aws_lambda_permission.api["get_payment"].source_arn == "arn:aws:execute-api:eu-west-1:111122223333:abc123/*/GET/v1/payments/*" &&
      aws_lambda_permission.api["list_payments"].source_arn == "arn:aws:execute-api:eu-west-1:111122223333:abc123/*/GET/v1/payments" &&
      aws_lambda_permission.api["detokenize"].function_name == "pay-detokenize" &&
      alltrue([for p in aws_lambda_permission.api : p.principal == "apigateway.amazonaws.com"])
    )
    error_message = "API Gateway may invoke each function only for its own method and path."
  }

  # Finding 11: the tokenize function's merchant binding is checked by its two front doors, the
  # API (the signing principal) and the workflow (payments_api's); a direct invocation skips it.
  # So within these modules only API Gateway for POST /v1/tokens and the workflow role may invoke
  # it, and no function role may invoke any function (CKV_PCI_023 refuses wildcard grants
  # elsewhere; an SCP covers the account's other identities, docs/threat-model.md 11g).
  assert {
    condition = (
      [for k, p in aws_lambda_permission.api : p.source_arn if p.function_name == "pay-tokenize"] == ["arn:aws:execute-api:eu-west-1:111122223333:abc123/*/POST/v1/tokens"] &&
      alltrue(flatten([
        for s in concat(local.payments_api_statements, local.assess_risk_statements, local.process_payment_statements, local.reconcile_statements, local.settle_statements) :
        [for a in s.actions : !startswith(a, "lambda:")]
      ]))
    )
    error_message = "Only API Gateway (POST /v1/tokens) and the workflow role may invoke tokenize; no function role invokes a function."
  }

  assert {
    condition = (
      aws_wafv2_web_acl_association.api.resource_arn == "arn:aws:apigateway:eu-west-1::/restapis/abc123/stages/v1" &&
      aws_wafv2_web_acl.api.scope == "REGIONAL" &&
      toset([for r in aws_wafv2_web_acl.api.rule : r.name]) == toset(["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList", "rate-limit-per-ip"])
    )
    error_message = "The stage is associated with the web ACL (managed rules and the per-IP rate limit)."
  }

  assert {
    condition = (
      startswith(aws_cloudwatch_log_group.waf.name, "aws-waf-logs-") &&
      aws_cloudwatch_log_group.waf.kms_key_id == var.logs_kms_key_arn &&
      aws_cloudwatch_log_group.waf.retention_in_days == var.log_retention_days &&
      [for f in aws_wafv2_web_acl_logging_configuration.api.redacted_fields : one(f.single_header).name] == ["authorization"] &&
      one(aws_wafv2_web_acl_logging_configuration.api.logging_filter).default_behavior == "DROP" &&
      toset(flatten([
        for f in one(aws_wafv2_web_acl_logging_configuration.api.logging_filter).filter : [
          for c in f.condition : one(c.action_condition).action if f.behavior == "KEEP"
        ]
      ])) == toset(["BLOCK", "COUNT"])
    )
    error_message = "The web ACL logs what it blocked or counted (not what it allowed: the access log has that) to an encrypted aws-waf-logs- group, with the API key's header redacted."
  }

  assert {
    condition = (
      aws_api_gateway_stage.v1.xray_tracing_enabled &&
      one(aws_api_gateway_stage.v1.access_log_settings).destination_arn == "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/apigateway/pay-api/access" &&
      !strcontains(one(aws_api_gateway_stage.v1.access_log_settings).format, "$context.requestBody") &&
      aws_cloudwatch_log_group.api_access.kms_key_id == var.logs_kms_key_arn
    )
    error_message = "The stage is traced and writes encrypted access logs without bodies."
  }

  assert {
    condition = (
      one(aws_api_gateway_method_settings.all.settings).logging_level == "ERROR" &&
      one(aws_api_gateway_method_settings.all.settings).data_trace_enabled == false &&
      one(aws_api_gateway_method_settings.all.settings).throttling_rate_limit == 200 &&
      one(aws_api_gateway_method_settings.all.settings).throttling_burst_limit == 400
    )
    error_message = "Execution logs at ERROR without data trace; the stage is throttled."
  }

  # --- payment events are recorded
  assert {
    condition     = aws_cloudwatch_event_bus.payments.name == "pay-payments" && aws_cloudwatch_event_bus.payments.kms_key_identifier == var.data_kms_key_arn
    error_message = "The payment bus is encrypted with the application key."
  }

  assert {
    condition = (
      one(aws_cloudwatch_event_bus.payments.dead_letter_config).arn == "arn:aws:sqs:eu-west-1:111122223333:pay-payments-dlq" &&
      one(aws_cloudwatch_event_target.payment_events.dead_letter_config).arn == "arn:aws:sqs:eu-west-1:111122223333:pay-payments-dlq" &&
      aws_sqs_queue.event_dead_letters.kms_master_key_id == var.data_kms_key_arn &&
      aws_sqs_queue.event_dead_letters.message_retention_seconds == 1209600 &&
      aws_cloudwatch_metric_alarm.event_dead_letters.dimensions.QueueName == "pay-payments-dlq" &&
      aws_cloudwatch_metric_alarm.event_dead_letters.threshold == 0
    )
    error_message = "Events the bus cannot encrypt and the event record's undelivered events go to an encrypted dead-letter queue kept 14 days, with an alarm on any message in it."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_sqs_queue_policy.event_dead_letters.policy).Statement : s.Condition.ArnLike["aws:SourceArn"] if s.Effect == "Allow"] == [[
        "arn:aws:events:eu-west-1:111122223333:event-bus/pay-payments",
        "arn:aws:events:eu-west-1:111122223333:rule/pay-payments/*",
      ]] &&
      [for s in jsondecode(aws_sqs_queue_policy.event_dead_letters.policy).Statement : s.Principal.Service if s.Effect == "Allow"] == ["events.amazonaws.com"] &&
      [for s in jsondecode(aws_sqs_queue_policy.event_dead_letters.policy).Statement : s.Condition.Bool["aws:SecureTransport"] if s.Effect == "Deny"] == ["false"]
    )
    error_message = "Only this bus and its rules may send to the dead-letter queue, over TLS."
  }

  assert {
    condition = (
      aws_cloudwatch_event_rule.payment_events.event_bus_name == "pay-payments" &&
      jsondecode(aws_cloudwatch_event_rule.payment_events.event_pattern).source == ["blueprint.payments"] &&
      jsondecode(aws_cloudwatch_event_rule.payment_events.event_pattern).detail == { payment_id = [{ exists = true }] } &&
      aws_cloudwatch_event_target.payment_events.arn == "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/events/pay-payment-events"
    )
    error_message = "Every blueprint.payments event of a payment on the bus goes to the event record log group."
  }

  assert {
    # A log group target takes only {"timestamp", "message"} (EventBridge PutTargets); the
    # record keeps what reconciliation reads and no card field (platform key, BIN, last four).
    condition = (
      startswith(aws_cloudwatch_event_target.payment_events.input_transformer[0].input_template, "{\"timestamp\": \"<time>\", \"message\": ") &&
      join(",", keys(aws_cloudwatch_event_target.payment_events.input_transformer[0].input_paths)) == "amount,event_id,payment_id,time,type"
    )
    error_message = "The event record is the compact {event_id, type, payment_id, amount} record only."
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.payment_events.name == "/aws/events/pay-payment-events" &&
      aws_cloudwatch_log_group.payment_events.kms_key_id == var.logs_kms_key_arn &&
      aws_cloudwatch_log_group.payment_events.retention_in_days == 365
    )
    error_message = "The event record is encrypted with the logs key and kept log_retention_days."
  }

  assert {
    condition = (
      toset(one(jsondecode(aws_cloudwatch_log_resource_policy.payment_events.policy_document).Statement).Principal.Service) == toset(["events.amazonaws.com", "delivery.logs.amazonaws.com"]) &&
      one(jsondecode(aws_cloudwatch_log_resource_policy.payment_events.policy_document).Statement).Resource == "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/events/pay-payment-events:*" &&
      one(jsondecode(aws_cloudwatch_log_resource_policy.payment_events.policy_document).Statement).Condition.ArnEquals["aws:SourceArn"] == "arn:aws:events:eu-west-1:111122223333:rule/pay-payments/pay-payment-events-to-logs"
    )
    error_message = "Only the payment events rule may write, and only to the event record."
  }

  assert {
    condition = (
      toset(keys(aws_cloudwatch_event_rule.schedule)) == toset(["reconcile", "settle"]) &&
      aws_cloudwatch_event_rule.schedule["reconcile"].name == "pay-reconcile" &&
      aws_cloudwatch_event_rule.schedule["reconcile"].schedule_expression == "rate(1 hour)" &&
      aws_cloudwatch_event_rule.schedule["reconcile"].event_bus_name == "default" &&
      aws_cloudwatch_event_target.schedule["reconcile"].target_id == "reconcile"
    )
    error_message = "reconcile runs hourly by default, on the default bus (one schedule map with settle)."
  }

  assert {
    condition = (
      aws_lambda_permission.schedule["reconcile"].principal == "events.amazonaws.com" &&
      aws_lambda_permission.schedule["reconcile"].statement_id == "AllowReconcileSchedule" &&
      aws_lambda_permission.schedule["reconcile"].function_name == "pay-reconcile"
    )
    error_message = "The schedule may invoke reconcile (statement id kept from before the schedule map)."
  }

  # --- a ledger posting failure is alarmed not swallowed
  assert {
    condition = (
      aws_cloudwatch_log_metric_filter.invariant["ledger_posting_failed"].name == "pay-ledger-posting-failed" &&
      aws_cloudwatch_log_metric_filter.invariant["ledger_posting_failed"].pattern == "{ $.ledger_alarm = \"posting_failed\" }" &&
      aws_cloudwatch_log_metric_filter.invariant["ledger_posting_failed"].log_group_name == module.step["process_payment"].log_group_name &&
      aws_cloudwatch_log_metric_filter.invariant["ledger_posting_failed"].log_group_name == "/aws/lambda/pay-process-payment" &&
      aws_cloudwatch_metric_alarm.invariant["ledger_posting_failed"].alarm_name == "pay-ledger-posting-failed" &&
      aws_cloudwatch_metric_alarm.invariant["ledger_posting_failed"].threshold == 1 &&
      aws_cloudwatch_metric_alarm.invariant["ledger_posting_failed"].metric_name == "LedgerPostingFailed" &&
      aws_cloudwatch_metric_alarm.invariant["ledger_posting_failed"].treat_missing_data == "notBreaching"
    )
    error_message = "A capture or refund posted without its journal entry is counted from the process_payment log and alarms on the first one."
  }

  assert {
    condition = (
      toset(keys(aws_cloudwatch_metric_alarm.invariant)) == toset(["ledger_posting_failed", "settlement_waiting", "tra_fraud_rate"]) &&
      alltrue([
        for key, alarm in aws_cloudwatch_metric_alarm.invariant : (
          one(aws_cloudwatch_log_metric_filter.invariant[key].metric_transformation).namespace == alarm.namespace &&
          one(aws_cloudwatch_log_metric_filter.invariant[key].metric_transformation).name == alarm.metric_name &&
          alarm.threshold == 1 && alarm.evaluation_periods == 1 && alarm.treat_missing_data == "notBreaching" &&
          alarm.alarm_actions == toset([var.alarm_sns_topic_arn])
        )
      ])
    )
    error_message = "Each alarm reads its own filter's metric, fires on the first occurrence and notifies the alarm topic: a ledger posting process_payment gave up on, a batch settle could not book, a TRA fraud rate above its reference are reported, never passed over silently."
  }

  # --- workflow definition routes failures and retries every task
  # The definition as rendered: the create path, where failures go, and that every task's retry
  # policy is one of the policies built once in workflow.tf.
  assert {
    condition = alltrue([
      for name in ["Process", "Resume"] : (
        length(jsondecode(aws_sfn_state_machine.payment.definition).States[name].Catch) == 2 &&
        jsondecode(aws_sfn_state_machine.payment.definition).States[name].Catch[0].ErrorEquals == ["CaptureOutcomeUnknownError"] &&
        jsondecode(aws_sfn_state_machine.payment.definition).States[name].Catch[0].Next == "Pending" &&
        jsondecode(aws_sfn_state_machine.payment.definition).States[name].Catch[1].ErrorEquals == ["States.ALL"] &&
        jsondecode(aws_sfn_state_machine.payment.definition).States[name].Catch[1].Next == "Compensate" &&
        alltrue([for c in jsondecode(aws_sfn_state_machine.payment.definition).States[name].Catch : c.ResultPath == "$.failure"])
      )
    ])
    error_message = "Process (and Resume) catch CaptureOutcomeUnknownError to Pending first, then every other error to Compensate, keeping the failure in $.failure."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_sfn_state_machine.payment.definition).States : contains([
        jsonencode(local.retry_lambda), jsonencode(local.retry_acquirer), jsonencode(local.retry_compensation),
      ], jsonencode(try(s.Retry, null))) if s.Type == "Task"
    ])
    error_message = "Every Task has a Retry rendered from retry_lambda, retry_acquirer or retry_compensation."
  }

  assert {
    condition = {
      for name, s in jsondecode(aws_sfn_state_machine.payment.definition).States : name => lookup({
        (jsonencode(local.retry_lambda))       = "retry_lambda"
        (jsonencode(local.retry_acquirer))     = "retry_acquirer"
        (jsonencode(local.retry_compensation)) = "retry_compensation"
      }, jsonencode(try(s.Retry, null)), "other") if s.Type == "Task"
      } == {
      Tokenize              = "retry_lambda"
      Assess                = "retry_lambda"
      Process               = "retry_acquirer"
      Pending               = "retry_lambda"
      Compensate            = "retry_compensation"
      VerifyChallenge       = "retry_lambda"
      DeclineAuthentication = "retry_lambda"
      Resume                = "retry_acquirer"
      Capture               = "retry_acquirer"
      Refund                = "retry_acquirer"
      Cancel                = "retry_acquirer"
    }
    error_message = "The acquirer tasks (Process, Resume, Capture, Refund, Cancel) use retry_acquirer, Compensate uses retry_compensation, the others retry_lambda."
  }

  assert {
    condition = (
      jsonencode(try(jsondecode(aws_sfn_state_machine.payment.definition).States.Compensate.Retry, null)) == jsonencode(local.retry_compensation) &&
      anytrue([for r in try(jsondecode(aws_sfn_state_machine.payment.definition).States.Compensate.Retry, []) : r.ErrorEquals == ["States.ALL"] && r.MaxAttempts >= 1])
    )
    error_message = "Compensate retries with retry_compensation, which retries whatever failed (States.ALL)."
  }

  # The cancel route: one process_payment task that ends the execution; its failures are not
  # caught (nothing to compensate: the payment was recorded canceled before the void, or not).
  assert {
    condition = (
      one([for c in jsondecode(aws_sfn_state_machine.payment.definition).States.Route.Choices : c.Next if try(c.Variable, null) == "$.operation" && try(c.StringEquals, null) == "cancel"]) == "Cancel" &&
      jsondecode(aws_sfn_state_machine.payment.definition).States.Cancel.Type == "Task" &&
      jsondecode(aws_sfn_state_machine.payment.definition).States.Cancel.Parameters.FunctionName == "arn:aws:lambda:eu-west-1:111122223333:function:pay-process-payment" &&
      jsondecode(aws_sfn_state_machine.payment.definition).States.Cancel.Parameters.Payload == {
        "action"                = "cancel"
        "payment_id.$"          = "$.payment_id"
        "cancellation_reason.$" = "$.cancellation_reason"
      } &&
      jsondecode(aws_sfn_state_machine.payment.definition).States.Cancel.OutputPath == "$.Payload" &&
      jsondecode(aws_sfn_state_machine.payment.definition).States.Cancel.End &&
      try(jsondecode(aws_sfn_state_machine.payment.definition).States.Cancel.Catch, null) == null
    )
    error_message = "Route's cancel choice runs Cancel: process_payment with action cancel, the payment id and the reason, answering its payload and ending there, no Catch."
  }

  # The create path: from Route's create choice, everything reachable. The list is checked to be
  # closed under Next, Default, Choices and Catch, so a state added to the path must be listed.
  assert {
    condition = (
      one([for c in jsondecode(aws_sfn_state_machine.payment.definition).States.Route.Choices : c.Next if try(c.Variable, null) == "$.operation" && try(c.StringEquals, null) == "create"]) == "Tokenize" &&
      alltrue([
        for next in flatten([
          for name in ["Tokenize", "IsTokenized", "TokenizeRefused", "Assess", "Process", "Pending", "Compensate"] : concat(
            try([jsondecode(aws_sfn_state_machine.payment.definition).States[name].Next], []),
            try([jsondecode(aws_sfn_state_machine.payment.definition).States[name].Default], []),
            [for c in try(jsondecode(aws_sfn_state_machine.payment.definition).States[name].Choices, []) : c.Next],
            [for c in try(jsondecode(aws_sfn_state_machine.payment.definition).States[name].Catch, []) : c.Next],
          )
        ]) : contains(["Tokenize", "IsTokenized", "TokenizeRefused", "Assess", "Process", "Pending", "Compensate"], next)
      ]) &&
      alltrue([
        for name in ["Tokenize", "IsTokenized", "TokenizeRefused", "Assess", "Process", "Pending", "Compensate"] :
        !strcontains(lower(try(jsondecode(aws_sfn_state_machine.payment.definition).States[name].Resource, "")), "events:putevents")
      ])
    )
    error_message = "The create path (Route's create choice to Tokenize, IsTokenized, TokenizeRefused, Assess, Process, Pending, Compensate, a list closed under their transitions) has no PutEvents task: process_payment publishes the payment's events itself."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_sfn_state_machine.payment.definition).States : !strcontains(lower(try(s.Resource, "")), ":events:") && !strcontains(lower(try(s.Resource, "")), "putevents")
    ])
    error_message = "No state publishes to EventBridge: the workflow role has no events:PutEvents."
  }

  # --- merchants are the authorizer's, not configuration
  assert {
    condition     = !contains(keys(local.payments_api_environment), "MERCHANT_PRINCIPALS")
    error_message = "No merchant principals reach the Payment API: the authorizer names the merchant."
  }

  # --- settlement runs daily with least privilege
  # Settlement and payouts: a daily function of its own that may post ledger entries and read the
  # simulator's operation record, and nothing else (no payment writes, no bus, no event record).
  assert {
    condition = toset(flatten([
      for s in local.settle_statements : [for a in s.actions : [for r in s.resources : "${a} ${r}"]]
      ])) == toset([
      "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-ledger",
      "dynamodb:PutItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-ledger",
      "dynamodb:Query arn:aws:dynamodb:eu-west-1:111122223333:table/pay-ledger",
      "dynamodb:Scan arn:aws:dynamodb:eu-west-1:111122223333:table/pay-ledger",
      "dynamodb:UpdateItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-ledger",
      "dynamodb:Scan arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments",
      "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments",
      "dynamodb:PutItem arn:aws:dynamodb:eu-west-1:111122223333:table/pay-payments",
      "kms:Decrypt ${var.data_kms_key_arn}",
      "kms:DescribeKey ${var.data_kms_key_arn}",
    ])
    error_message = "settle posts to the ledger, scans the simulator's operation record, keeps the TRA fraud-rate item and uses the application key: nothing else."
  }

  assert {
    condition = one([
      for s in local.settle_statements : s.conditions if s.sid == "MonitorTraFraudRate"
      ]) == [
      { test = "ForAllValues:StringEquals", variable = "dynamodb:LeadingKeys", values = ["tra-monitoring#remote_card"] },
    ]
    error_message = "settle may read and write the TRA fraud-rate item of the payments table and no other key (RTS Art. 19-21 monitoring)."
  }

  assert {
    condition = (
      aws_cloudwatch_event_rule.schedule["settle"].name == "pay-settle" &&
      aws_cloudwatch_event_rule.schedule["settle"].schedule_expression == "cron(30 6 * * ? *)" &&
      aws_cloudwatch_event_rule.schedule["settle"].event_bus_name == "default" &&
      aws_cloudwatch_event_target.schedule["settle"].arn == "arn:aws:lambda:eu-west-1:111122223333:function:pay-settle" &&
      aws_lambda_permission.schedule["settle"].principal == "events.amazonaws.com" &&
      aws_lambda_permission.schedule["settle"].statement_id == "AllowSettleSchedule" &&
      aws_lambda_permission.schedule["settle"].function_name == "pay-settle"
    )
    error_message = "settle runs once a day (06:30 UTC) from the default bus, which alone may invoke it."
  }

  assert {
    condition = (
      local.settle_environment.LEDGER_TABLE_NAME == "pay-ledger" &&
      local.settle_environment.PAYMENTS_TABLE_NAME == "pay-payments" &&
      local.settle_environment.ACQUIRER_CONNECTOR == "simulator" &&
      local.settle_environment.EUR_RATES == local.eur_rates_json &&
      !contains(keys(local.settle_environment), "EVENT_BUS_NAME") &&
      var.reserved_concurrency.settle == 1
    )
    error_message = "settle gets the ledger, the operation record and the connector, no bus; one run at a time."
  }

  assert {
    condition = (
      aws_cloudwatch_log_metric_filter.invariant["settlement_waiting"].name == "pay-settlement-waiting" &&
      aws_cloudwatch_log_metric_filter.invariant["settlement_waiting"].log_group_name == "/aws/lambda/pay-settle" &&
      aws_cloudwatch_log_metric_filter.invariant["settlement_waiting"].pattern == "{ $.settlement_alarm = \"waiting\" }" &&
      aws_cloudwatch_metric_alarm.invariant["settlement_waiting"].alarm_name == "pay-settlement-waiting" &&
      aws_cloudwatch_metric_alarm.invariant["settlement_waiting"].threshold == 1 &&
      aws_cloudwatch_metric_alarm.invariant["settlement_waiting"].alarm_actions == toset([var.alarm_sns_topic_arn])
    )
    error_message = "A settlement batch the ledger cannot book alarms on the first one."
  }

  assert {
    condition = (
      aws_cloudwatch_log_metric_filter.invariant["tra_fraud_rate"].log_group_name == "/aws/lambda/pay-settle" &&
      aws_cloudwatch_log_metric_filter.invariant["tra_fraud_rate"].pattern == "{ ($.tra_alarm = \"exceeded\") || ($.tra_alarm = \"restart_due\") }" &&
      aws_cloudwatch_metric_alarm.invariant["tra_fraud_rate"].alarm_name == "pay-tra-fraud-rate"
    )
    error_message = "A TRA band above its reference fraud rate (RTS Art. 20(1)) or due a restart notification (Art. 20(4)) alarms on the first settle run that finds it."
  }

  # --- no merchant service charge by default
  assert {
    condition     = local.process_payment_environment.MERCHANT_SERVICE_CHARGE == "" && local.reconcile_environment.MERCHANT_SERVICE_CHARGE == ""
    error_message = "Without a schedule nothing is charged (an empty MERCHANT_SERVICE_CHARGE)."
  }

  # --- without a domain the default endpoint stays open (edge.tftest.hcl tests the domain)
  assert {
    condition     = aws_api_gateway_rest_api.this.disable_execute_api_endpoint == false
    error_message = "Without a custom domain the default endpoint is the API's only way in: it must stay enabled."
  }
  assert {
    condition     = length(aws_api_gateway_domain_name.this) == 0 && length(aws_api_gateway_base_path_mapping.this) == 0 && output.api_domain == null
    error_message = "No domain, no domain resources."
  }

  # --- without webhooks the api has no webhook routes (webhooks.tftest.hcl tests them)
  assert {
    condition     = length(output.webhook_routes) == 0 && length([for k in keys(aws_api_gateway_method.this) : k if strcontains(k, "webhook")]) == 0
    error_message = "No webhook route without var.webhooks."
  }
}

run "the_module_with_every_input_set" {
  command = plan

  variables {
    deletion_protection           = false
    fraud_rules                   = { review_threshold = 40, "weights.velocity_card" = 50 }
    ip_country_ranges             = { "192.0.2.0/24" = "DE", "2001:db8::/32" = "NL" }
    issuer_country_prefixes       = { "4571" = "DK" }
    sca_tra_fraud_rate_percent    = "0.015"
    max_amount_eur                = 5000.5
    max_amount_minor_overrides    = { JPY = 500000 }
    reconcile_schedule_expression = null
    merchant_authorizer = {
      invoke_arn         = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:pay-merchant-authorizer/invocations"
      result_ttl_seconds = 0
    }
    authorization_validity_days    = 30
    workflow_log_level             = "ALL"
    log_level                      = "INFO"
    settlement_schedule_expression = null
    merchant_service_charge = {
      default   = { EUR = { bps = 140, fixed = "0.25" }, JPY = { bps = 290, fixed = "30" } }
      merchants = { m_1 = { EUR = { bps = 95.5 } } }
    }
  }

  # --- deletion protection can be turned off for throwaway environments
  assert {
    condition     = !aws_dynamodb_table.payments.deletion_protection_enabled && !aws_dynamodb_table.ledger.deletion_protection_enabled && !aws_dynamodb_table.idempotency.deletion_protection_enabled
    error_message = "deletion_protection = false reaches all three tables."
  }

  assert {
    condition     = one(aws_dynamodb_table.ledger.point_in_time_recovery).enabled
    error_message = "PITR stays on whatever deletion_protection says."
  }

  # --- settings reach the functions as json
  assert {
    condition     = jsondecode(local.assess_risk_environment.FRAUD_RULES) == { review_threshold = 40, weights = { velocity_card = 50 } }
    error_message = "fraud_rules become FraudRules JSON, weights.<reason> nested under weights."
  }

  assert {
    condition     = jsondecode(local.assess_risk_environment.IP_COUNTRY_RANGES) == { "192.0.2.0/24" = "DE", "2001:db8::/32" = "NL" }
    error_message = "ip_country_ranges pass through as JSON."
  }

  assert {
    condition     = local.assess_risk_environment.SCA_TRA_FRAUD_RATE_PERCENT == "0.015" && jsondecode(local.assess_risk_environment.ISSUER_COUNTRY_PREFIXES) == { "4571" = "DK" } && local.payments_api_environment.MAX_AMOUNT_EUR == "5000.5" && jsondecode(local.payments_api_environment.MAX_AMOUNT_MINOR_OVERRIDES) == { JPY = 500000 }
    error_message = "The measured TRA fraud rate and the BIN prefixes reach assess_risk, the amount limit reaches payments_api."
  }

  # --- the authorizer's cache can be switched off (a revoked key stops at once)
  assert {
    condition     = aws_api_gateway_authorizer.merchant.authorizer_result_ttl_in_seconds == 0
    error_message = "merchant_authorizer.result_ttl_seconds reaches the authorizer."
  }

  # --- authorization validity reaches reconcile
  assert {
    condition     = local.reconcile_environment.AUTHORIZATION_VALIDITY_DAYS == "30"
    error_message = "authorization_validity_days reaches reconcile as AUTHORIZATION_VALIDITY_DAYS."
  }

  # --- workflow log level all stays available
  assert {
    condition = (
      one(aws_sfn_state_machine.payment.logging_configuration).level == "ALL" &&
      one(aws_sfn_state_machine.payment.logging_configuration).include_execution_data == false &&
      module.payments_api.log_level == "INFO"
    )
    error_message = "ALL and INFO can be chosen explicitly, still without execution data."
  }

  # --- the reconcile and settlement schedules can be switched off (both null here; the run
  # with the defaults checks that each exists)
  assert {
    condition     = length(aws_cloudwatch_event_rule.schedule) == 0 && length(aws_cloudwatch_event_target.schedule) == 0 && length(aws_lambda_permission.schedule) == 0
    error_message = "A null schedule creates no rule, target or permission."
  }

  # --- merchant service charge reaches the posting functions
  assert {
    condition = (
      jsondecode(local.process_payment_environment.MERCHANT_SERVICE_CHARGE) == {
        default   = { EUR = { bps = 140, fixed = "0.25" }, JPY = { bps = 290, fixed = "30" } }
        merchants = { m_1 = { EUR = { bps = 95.5, fixed = "0" } } }
      } &&
      local.reconcile_environment.MERCHANT_SERVICE_CHARGE == local.process_payment_environment.MERCHANT_SERVICE_CHARGE
    )
    error_message = "The fee schedule reaches process_payment (which books it) and reconcile (which repairs entries) as JSON."
  }
}

# Every variable's validation refuses its bad values. Each run below sets one refused value
# for each of several variables and expects every one of them to fail (terraform test fails
# the run if any listed variable does not), so a plan of the whole module, about 10 s, checks
# several rules at once; the comment above each value names the rule it exercises.
run "bad_values_are_refused_1" {
  command = plan

  variables {
    # an authorizer that is not a Lambda invoke ARN, cached beyond API Gateway's hour
    merchant_authorizer = { invoke_arn = "arn:aws:lambda:eu-west-1:111122223333:function:x", result_ttl_seconds = 3601 }
    # unknown acquirer is refused
    acquirer_connector = "adyen"
    # acquirer timeout out of range is refused
    acquirer_timeout_ms = 30000
    # authorization validity of zero days is refused
    authorization_validity_days = 0
    # ledger shards out of range are refused
    ledger_shards = 65
    # tra fraud rate above the lowest band is refused
    sca_tra_fraud_rate_percent = "0.1300001"
    # bad bin prefix is refused
    issuer_country_prefixes = { "4242x" = "GB" }
    # eur rate of eur must be one
    eur_rates = { EUR = 2, USD = 0.92 }
    # unknown fraud setting is refused
    fraud_rules = { "weights.velocity_ip" = 10 }
    # bad ip range is refused
    ip_country_ranges = { "192.0.2.1/24" = "DE" }
    # zero max amount is refused
    max_amount_eur = 0
    # an override must name a currency and whole minor units
    max_amount_minor_overrides = { jpy = 1.5 }
    # bad schedule is refused
    reconcile_schedule_expression = "every hour"
    # workflow log levels that lose failures are refused
    workflow_log_level = "FATAL"
    # short log retention is refused
    log_retention_days = 90
    # key alias is refused
    data_kms_key_arn = "alias/aws/dynamodb"
    # single subnet is refused
    vpc_config = {
      subnet_ids         = ["subnet-aaaa"]
      security_group_ids = ["sg-1111"]
    }
    # unknown environment is refused
    environment = "qa"
    # a fixed charge finer than the currency is refused
    merchant_service_charge = { default = { EUR = { bps = 140, fixed = "0.255" } } }
    # an slo period that is not whole minutes is refused
    slo = { period_seconds = 90 }
  }

  expect_failures = [
    var.merchant_authorizer,
    var.acquirer_connector,
    var.acquirer_timeout_ms,
    var.authorization_validity_days,
    var.ledger_shards,
    var.sca_tra_fraud_rate_percent,
    var.issuer_country_prefixes,
    var.eur_rates,
    var.fraud_rules,
    var.ip_country_ranges,
    var.max_amount_eur,
    var.max_amount_minor_overrides,
    var.reconcile_schedule_expression,
    var.workflow_log_level,
    var.log_retention_days,
    var.data_kms_key_arn,
    var.vpc_config,
    var.environment,
    var.merchant_service_charge,
    var.slo,
  ]
}

run "bad_values_are_refused_2" {
  command = plan

  variables {
    # authorization validity beyond 30 days is refused
    authorization_validity_days = 31
    # zero tra fraud rate is refused
    sca_tra_fraud_rate_percent = "0"
    # a fraction of a cent is refused
    max_amount_eur = 10.005
    # a fractional yen charge is refused
    merchant_service_charge = { merchants = { m_1 = { JPY = { bps = 100, fixed = "0.5" } } } }
    # the http acquirer connector without its api is refused (acquirer_http's rule)
    acquirer_connector = "http"
    # a domain without its certificate is refused
    api_domain_name = "api.payments.example.com"
    # a webhooks function that is not a lambda invoke arn is refused
    webhooks = {
      api_function_name = "pay-webhooks-api"
      api_invoke_arn    = "arn:aws:lambda:eu-west-1:111122223333:function:pay-webhooks-api"
    }
    # an slo availability of 100 percent is refused
    slo = { availability_percent = 100 }
  }

  expect_failures = [
    var.authorization_validity_days,
    var.sca_tra_fraud_rate_percent,
    var.max_amount_eur,
    var.merchant_service_charge,
    var.acquirer_http,
    var.acquirer_vpc_config,
    var.api_domain_name,
    var.webhooks,
    var.slo,
  ]
}

run "bad_values_are_refused_3" {
  command = plan

  variables {
    # authorization validity in fractions of a day is refused
    authorization_validity_days = 1.5
    # tra fraud rate in basis points is refused
    sca_tra_fraud_rate_percent = "13"
    # a rate above one hundred percent is refused
    merchant_service_charge = { default = { EUR = { bps = 10001 } } }
    # a plain http acquirer api or a wildcard secret is refused
    acquirer_connector = "http"
    acquirer_http = {
      base_url              = "http://api.acquirer.example/v1"
      credential_secret_arn = "*"
    }
    # http without the acquirer tier's subnets is refused (the data subnets have no way out)
    # an slo latency objective beyond the integration timeout is refused
    slo = { latency_p99_ms = 30000 }
  }

  expect_failures = [
    var.authorization_validity_days,
    var.sca_tra_fraud_rate_percent,
    var.merchant_service_charge,
    var.acquirer_http,
    var.acquirer_vpc_config,
    var.slo,
  ]
}

run "bad_values_are_refused_4" {
  command = plan

  variables {
    # tra fraud rate that is not a decimal is refused
    sca_tra_fraud_rate_percent = "1.5e-2"
    # an unknown body validation is refused
    request_body_validation = "both"
    # an slo approval floor of 0 or a fraction of a payment is refused
    slo = { approval_rate_min_percent = 0, min_payments = 2.5 }
  }

  expect_failures = [
    var.sca_tra_fraud_rate_percent,
    var.request_body_validation,
    var.slo,
  ]
}

# BNPL composed (var.credit): a bnpl payment leaves the first Choice for its own branch, whose
# checkout is compensated on any failure; the card branch keeps its states; the credit routes
# are methods of the same REST API, signed with IAM like the payment routes, and given to the
# caller for their invoke permissions; the workflow may invoke the bnpl function.
#
# The request models (api_models.tf, written by make openapi from the functions' models): every
# POST route is in the generated contract, and each that reads a body is validated against its
# draft-4 model whatever the Content-Type; the published document holds the merchant routes
# and none signed with IAM. Credit composed, for the IAM-signed review beside detokenize.
#
# One plan serves both, as they need the same inputs.
run "with_credit_bnpl_takes_its_own_branch_and_every_post_body_is_checked_against_its_model" {
  command = plan

  variables {
    credit = {
      api_function_name = "pay-credit-api"
      api_invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:pay-credit-api/invocations"
      bnpl_function_arn = "arn:aws:lambda:eu-west-1:111122223333:function:pay-bnpl"
    }
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.payment.definition).States.Route.Choices[0].Next == "Bnpl" &&
      jsondecode(aws_sfn_state_machine.payment.definition).States.BnplCheckout.Parameters.FunctionName == var.credit.bnpl_function_arn &&
      jsondecode(aws_sfn_state_machine.payment.definition).States.BnplCheckout.Catch[0].Next == "BnplCompensate" &&
      jsondecode(aws_sfn_state_machine.payment.definition).States.Tokenize.Next == "IsTokenized"
    )
    error_message = "A bnpl payment must take the Bnpl branch from Route, its checkout compensated; the card branch unchanged."
  }

  assert {
    condition = alltrue([
      for k in ["create_credit_decision", "get_credit_decision", "review_credit_decision", "get_bnpl_plan", "settle_bnpl_plan"] :
      aws_api_gateway_method.this[k].authorization == (k == "review_credit_decision" ? "AWS_IAM" : "CUSTOM") && aws_api_gateway_integration.this[k].uri == var.credit.api_invoke_arn && !contains(keys(aws_lambda_permission.api), k)
    ])
    error_message = "Every credit route must go through the merchant authorizer (the review: IAM-signed, the lender's reviewers) and integrate the credit API function; its invoke permission is credit_decisioning's (output credit_routes)."
  }

  assert {
    condition     = output.credit_routes.settle_bnpl_plan == { method = "POST", path = "/v1/bnpl/plans/{plan_id}/settle" } && length(output.credit_routes) == 5
    error_message = "credit_routes gives the caller every credit route's method and path."
  }

  assert {
    condition     = contains(jsondecode(aws_iam_role_policy.workflow.policy).Statement[0].Resource, var.credit.bnpl_function_arn)
    error_message = "The workflow must be allowed to invoke the bnpl function."
  }

  assert {
    condition = alltrue([
      for k, r in local.api_routes : contains(keys(local.contract.request_models), "${r.method} ${r.path}") if r.method == "POST"
    ])
    error_message = "Every POST route must be in models/routes.json: add its resolver to functions/handlers/api_contract.py and run make openapi."
  }

  assert {
    condition = alltrue([
      for k, r in local.api_routes : (
        aws_api_gateway_method.this[k].request_validator_id == aws_api_gateway_request_validator.body.id &&
        aws_api_gateway_method.this[k].request_models == tomap({ "$default" = local.contract.request_models["${r.method} ${r.path}"] }) &&
        aws_api_gateway_model.this[local.contract.request_models["${r.method} ${r.path}"]].content_type == "application/json" &&
        jsondecode(aws_api_gateway_model.this[local.contract.request_models["${r.method} ${r.path}"]].schema)["$schema"] == "http://json-schema.org/draft-04/schema#"
      ) if r.method == "POST" && try(local.contract.request_models["${r.method} ${r.path}"], null) != null
    ])
    error_message = "Every POST method that reads a body must have its draft-4 model for every Content-Type ($default) and the body-and-parameters validator."
  }

  assert {
    condition     = !aws_api_gateway_request_validator.body.validate_request_body && aws_api_gateway_request_validator.body.validate_request_parameters
    error_message = "By default the functions refuse a bad body (their 400 names the field) and the gateway checks the required parameters only (ADR 0011)."
  }

  assert {
    condition = (
      aws_api_gateway_method.this["create_payment"].request_models["$default"] == "PaymentRequest" &&
      aws_api_gateway_method.this["detokenize"].request_models["$default"] == "DetokenizeRequest" &&
      aws_api_gateway_method.this["review_credit_decision"].request_models["$default"] == "ReviewRequest" &&
      aws_api_gateway_method.this["settle_bnpl_plan"].request_models == null &&
      aws_api_gateway_method.this["get_payment"].request_models == null
    )
    error_message = "POST /v1/payments is checked against PaymentRequest, the IAM routes against their own models; settle reads no body and a GET has none."
  }

  assert {
    condition = alltrue([
      for k, r in local.api_routes : contains(local.contract.published, "${r.method} ${r.path}") == (r.auth == "merchant")
    ])
    error_message = "docs/openapi.json must publish every merchant route and no route signed with IAM (run make openapi)."
  }

  assert {
    condition = (
      aws_api_gateway_method.this["openapi"].http_method == "GET" &&
      aws_api_gateway_method.this["openapi"].authorization == "CUSTOM" &&
      aws_api_gateway_integration.this["openapi"].uri == module.payments_api.invoke_arn
    )
    error_message = "GET /v1/openapi.json is served by the payments function behind the merchant authorizer."
  }
}

run "the_gateway_checks_bodies_against_their_models_when_chosen" {
  command = plan

  variables {
    request_body_validation = "gateway"
  }

  assert {
    condition     = aws_api_gateway_request_validator.body.validate_request_body && aws_api_gateway_method.this["create_payment"].request_models["$default"] == "PaymentRequest"
    error_message = "request_body_validation = gateway: API Gateway checks every body against its model before anything runs."
  }
}
