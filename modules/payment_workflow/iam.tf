# Least privilege per function (no wildcard actions; every statement names its table, index,
# state machine, bus, log group or key). lambda_function adds what every function needs: its own
# log group, X-Ray, its failure queue, the environment key and the VPC network interfaces.
#
#   payments_api     reads payments, owns the idempotency records, starts the workflow
#   assess_risk      queries the payments indexes (velocity); reads and writes the SCA
#                    counters, mandates and agreements kept in the payments table
#   process_payment  reads and writes payments, the only hot-path writer of the ledger,
#                    publishes payment events
#   reconcile        reads payments and the event record, cancels stale holds (voids and
#                    reverses expired authorizations), settles pending captures/refunds,
#                    repairs the ledger, republishes events
#   settle           reads the ledger and (simulator) the acquirer's operation record, posts
#                    settlement, dispute and payout entries; no payment, bus or event access

data "aws_region" "current" {}

locals {
  region                = data.aws_region.current.id
  payments_table_arn    = aws_dynamodb_table.payments.arn
  idempotency_table_arn = aws_dynamodb_table.idempotency.arn
  ledger_table_arn      = aws_dynamodb_table.ledger.arn
  # Known before the state machine exists: its role's policy is created first (workflow.tf).
  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${var.name_prefix}-payment"

  # The application key, only through the service that uses it, for this module's resources
  # (issue 18, finding 11): no function calls KMS on it directly. A role that may call
  # kms:Decrypt on the key itself could decrypt any ciphertext under it, whoever wrote it.
  #
  # DynamoDB unwraps a table's key with KMS as the calling role, through DynamoDB, under the
  # context {aws:dynamodb:tableName, aws:dynamodb:subscriberId} (AWS KMS Developer Guide, "How
  # Amazon DynamoDB uses AWS KMS"), so each role may Decrypt (and DescribeKey) only that way and
  # only for the tables it reads or writes. EventBridge encrypts the payment bus with the key as
  # its own service principal (the key policy's grant; EventBridge User Guide, "Authorizing
  # EventBridge to use a customer managed key"): publishers need no KMS grant. Lambda's own use
  # (the environment, a failure queue) is granted by lambda_function, through Lambda and SQS.
  application_key_via_dynamodb = {
    for role, tables in {
      payments_api    = [aws_dynamodb_table.payments.name, aws_dynamodb_table.idempotency.name]
      assess_risk     = [aws_dynamodb_table.payments.name]
      process_payment = [aws_dynamodb_table.payments.name, aws_dynamodb_table.ledger.name]
      reconcile       = [aws_dynamodb_table.payments.name, aws_dynamodb_table.ledger.name]
      settle          = [aws_dynamodb_table.payments.name, aws_dynamodb_table.ledger.name]
      } : role => {
      sid       = "ApplicationKeyViaDynamoDb"
      actions   = ["kms:Decrypt", "kms:DescribeKey"]
      resources = [var.data_kms_key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.${local.region}.amazonaws.com"] },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:tableName", values = tables },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:subscriberId", values = [local.account_id] },
      ]
    }
  }

  publish_payment_events_conditions = [
    { test = "StringEquals", variable = "events:source", values = [local.event_source] },
  ]

  # One local per function, not one map: payments_api needs the state machine, which needs the
  # step functions, so a shared map would make a dependency cycle.
  payments_api_statements = [
    {
      # GetItem for GET /v1/payments/{id}; BatchGetItem for the records a list answers.
      sid       = "ReadPayments"
      actions   = ["dynamodb:BatchGetItem", "dynamodb:GetItem"]
      resources = [local.payments_table_arn]
    },
    {
      # GET /v1/payments: the merchant's payments by creation time, never a Scan.
      sid       = "ListPayments"
      actions   = ["dynamodb:Query"]
      resources = ["${local.payments_table_arn}/index/by_merchant"]
    },
    {
      sid       = "IdempotencyRecords"
      actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      resources = [local.idempotency_table_arn]
    },
    {
      sid       = "StartPaymentWorkflow"
      actions   = ["states:StartSyncExecution"]
      resources = [aws_sfn_state_machine.payment.arn]
    },
    {
      # The execution's input is encrypted with the state machine's key: through Step
      # Functions, for this state machine only (its context, "Data at rest encryption in Step
      # Functions").
      sid       = "ApplicationKeyViaStepFunctions"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.data_kms_key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["states.${local.region}.amazonaws.com"] },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:states:stateMachineArn", values = [local.state_machine_arn] },
      ]
    },
    local.application_key_via_dynamodb.payments_api,
  ]

  assess_risk_statements = [
    {
      sid       = "VelocityIndexes"
      actions   = ["dynamodb:Query"]
      resources = ["${local.payments_table_arn}/index/by_card", "${local.payments_table_arn}/index/by_device"]
    },
    {
      sid       = "ReadWritePayments"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      resources = [local.payments_table_arn]
    },
    local.application_key_via_dynamodb.assess_risk,
  ]

  process_payment_statements = [
    {
      sid       = "ReadWritePayments"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      resources = [local.payments_table_arn]
    },
    {
      # A posting is a transaction of a Put (the entry) and an Update (the payment's position);
      # a replay reads the entry back, compensation queries the payment's entries.
      sid       = "PostLedgerEntries"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
      resources = [local.ledger_table_arn]
    },
    {
      sid        = "PublishPaymentEvents"
      actions    = ["events:PutEvents"]
      resources  = [aws_cloudwatch_event_bus.payments.arn]
      conditions = local.publish_payment_events_conditions
    },
    local.application_key_via_dynamodb.process_payment,
  ]

  # The reconciliation reads by index, never by Scan (docs/ledger.md, "Reconciliation at
  # volume"): what changed in its window (by_update, which also holds the simulator's operation
  # records), the holds due for the sweeper (open_holds) and the entries written in its window
  # (the ledger's by_recorded); a payment, an operation record or its checkpoint by key.
  reconcile_statements = [
    {
      sid       = "ReadPayments"
      actions   = ["dynamodb:GetItem"]
      resources = [local.payments_table_arn]
    },
    {
      sid       = "ReadPaymentsByWindow"
      actions   = ["dynamodb:Query"]
      resources = ["${local.payments_table_arn}/index/by_update", "${local.payments_table_arn}/index/open_holds"]
    },
    {
      # Settling a pending capture or refund, or canceling a stale hold, writes the payment
      # record (conditional on its version) and, with the simulator, its operation record;
      # each scheduled run writes its checkpoint (reconcile#checkpoint).
      sid       = "SettlePaymentRecords"
      actions   = ["dynamodb:PutItem"]
      resources = [local.payments_table_arn]
    },
    {
      # A payment's entries are one Query of its partition; a repair posts one (a Put, or a
      # transaction of a Put and an Update) and reads the entry back on a replay.
      sid       = "RepairLedger"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
      resources = [local.ledger_table_arn]
    },
    {
      # The entries written in its window, for those whose payment does not exist.
      sid       = "ReadLedgerByWindow"
      actions   = ["dynamodb:Query"]
      resources = ["${local.ledger_table_arn}/index/by_recorded"]
    },
    {
      sid        = "RepublishPaymentEvents"
      actions    = ["events:PutEvents"]
      resources  = [aws_cloudwatch_event_bus.payments.arn]
      conditions = local.publish_payment_events_conditions
    },
    {
      sid       = "ReadPaymentEventRecord"
      actions   = ["logs:FilterLogEvents"]
      resources = [aws_cloudwatch_log_group.payment_events.arn, "${aws_cloudwatch_log_group.payment_events.arn}:*"]
    },
    local.application_key_via_dynamodb.reconcile,
  ]

  settle_statements = [
    {
      # A posting is a transaction of a Put (the entry) and an Update (its position); the
      # settled references and the merchants' funds are read by a scan of the entries.
      sid       = "PostSettlementEntries"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"]
      resources = [local.ledger_table_arn]
    },
    {
      # The simulator makes its batches from its operation record (acquirer-op# items).
      sid       = "ReadAcquirerOperations"
      actions   = ["dynamodb:Scan"]
      resources = [local.payments_table_arn]
    },
    {
      # The monitored TRA fraud rate (RTS Art. 19-21): one item, read for its Art. 20 state and
      # written by each run (docs/sca-policy.md); no other key of the payments table.
      sid       = "MonitorTraFraudRate"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
      resources = [local.payments_table_arn]
      conditions = [
        { test = "ForAllValues:StringEquals", variable = "dynamodb:LeadingKeys", values = ["tra-monitoring#remote_card"] },
      ]
    },
    local.application_key_via_dynamodb.settle,
  ]

  # The workflow's own role: invoke its three steps (unqualified and any version or alias) and
  # use the application key for its encrypted state. It publishes nothing itself: the
  # process_payment step publishes each payment's event with the write that makes it true.
  workflow_step_arns = concat([
    var.tokenize_function_arn,
    module.step["assess_risk"].function_arn,
    module.step["process_payment"].function_arn,
  ], var.credit == null ? [] : [var.credit.bnpl_function_arn])

  workflow_statements = [
    {
      Sid      = "InvokeSteps"
      Effect   = "Allow"
      Action   = ["lambda:InvokeFunction"]
      Resource = concat(local.workflow_step_arns, [for arn in local.workflow_step_arns : "${arn}:*"])
    },
    {
      # The state machine's definition and execution history are encrypted with the application
      # key: this state machine's only (its encryption context; "Data at rest encryption in Step
      # Functions"), never another resource's ciphertext under the same key (finding 11).
      Sid       = "UseApplicationKeyForThisStateMachine"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = [var.data_kms_key_arn]
      Condition = { StringEquals = { "kms:EncryptionContext:aws:states:stateMachineArn" = local.state_machine_arn } }
    },
    {
      # Execution logs are encrypted with the same key: Step Functions makes the data key for
      # log delivery as this role, under the context SourceArn = this account's and Region's
      # logs ("Data at rest encryption in Step Functions", execution role permissions); without
      # it the state machine's logs are lost on AWS and its creation is refused locally.
      Sid       = "EncryptExecutionLogsForDelivery"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey"]
      Resource  = [var.data_kms_key_arn]
      Condition = { StringEquals = { "kms:EncryptionContext:SourceArn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:*" } }
    },
    {
      # The vended-log delivery APIs have no resource type (Service Authorization Reference,
      # CloudWatch Logs): they can only be granted on "*".
      Sid      = "DeliverExecutionLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:UpdateLogDelivery"]
      Resource = ["*"]
    },
    {
      # Setting up delivery to a log group that has no resource policy for delivery.logs yet
      # writes one. CloudWatch Logs documents these three on this account's and Region's log
      # groups ("Logs sent to CloudWatch Logs", user permissions: log-group:*, not one group),
      # not on "*": they were on "*", which reached every resource policy of the account in
      # every Region (finding 11).
      Sid      = "LogGroupResourcePolicyForDelivery"
      Effect   = "Allow"
      Action   = ["logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:PutResourcePolicy"]
      Resource = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    },
    {
      Sid      = "Tracing"
      Effect   = "Allow"
      Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
      Resource = ["*"]
    },
  ]
}

resource "aws_iam_role" "workflow" {
  name        = "${var.name_prefix}-payment-workflow"
  description = "Execution role of the ${var.name_prefix}-payment state machine."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "workflow" {
  name = "least-privilege"
  role = aws_iam_role.workflow.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.workflow_statements
  })
}
