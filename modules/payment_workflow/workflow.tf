# The payment hot path: an EXPRESS state machine (payments_api starts it synchronously).
# payments_api validates, then: tokenize (vault) -> assess_risk (fraud + SCA) -> process_payment
# (authorize, capture, journal entry, payment event). The definition lives in templates/ (ASL,
# Amazon States Language); its retry and catch policies are built here once (locals) and
# rendered into every task that uses them.

resource "aws_cloudwatch_log_group" "workflow" {
  name              = "/aws/vendedlogs/states/${var.name_prefix}-payment-workflow"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn

  tags = var.tags
}

resource "aws_sfn_state_machine" "payment" {
  name     = "${var.name_prefix}-payment"
  type     = "EXPRESS"
  role_arn = aws_iam_role.workflow.arn
  definition = templatefile("${path.module}/templates/payment_workflow.asl.json.tftpl", {
    partition                    = local.partition
    tokenize_function_arn        = var.tokenize_function_arn
    assess_risk_function_arn     = module.step["assess_risk"].function_arn
    process_payment_function_arn = module.step["process_payment"].function_arn
    retry_lambda                 = jsonencode(local.retry_lambda)
    retry_acquirer               = jsonencode(local.retry_acquirer)
    retry_compensation           = jsonencode(local.retry_compensation)
    bnpl_function_arn            = var.credit == null ? "" : var.credit.bnpl_function_arn
  })

  logging_configuration {
    # Execution data would carry card data into the logs (PCI DSS 3.3): never include it.
    # ERROR by default: failures only; ALL costs ~60 log events per payment (see variables.tf).
    log_destination        = "${aws_cloudwatch_log_group.workflow.arn}:*"
    include_execution_data = false
    level                  = var.workflow_log_level
  }

  tracing_configuration {
    enabled = true
  }

  encryption_configuration {
    type                              = "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_id                        = var.data_kms_key_arn
    kms_data_key_reuse_period_seconds = 300
  }

  depends_on = [aws_iam_role_policy.workflow]
  tags       = var.tags
}

# Retry policies, written once and rendered into every task that uses them. Every step is
# idempotent (the acquirer by its idempotency keys, the tables by conditional writes), so a
# retried step finds its own earlier work and answers from it.
locals {
  # Lambda's own transient failures, and a function whose runtime died or timed out: AWS reports
  # those as Lambda.Unknown, the runtime as Runtime.ExitError and Sandbox.Timedout. Every task is
  # idempotent, so running it again is safe; failing the execution instead left an
  # authorization uncompensated (issue 17).
  lambda_transient_errors = [
    "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException", "Lambda.ClientExecutionTimeoutException",
    "Lambda.Unknown", "Runtime.ExitError", "Sandbox.Timedout",
  ]

  retry_lambda = [
    { ErrorEquals = local.lambda_transient_errors, IntervalSeconds = 1, MaxAttempts = 2, BackoffRate = 2, JitterStrategy = "FULL" },
  ]

  # One more try when the acquirer did not answer, under the same acquirer idempotency key.
  retry_acquirer = concat(local.retry_lambda, [
    {
      ErrorEquals     = ["AcquirerUnavailableError", "AcquirerTimeoutError", "CaptureOutcomeUnknownError", "States.Timeout"]
      IntervalSeconds = 1, MaxAttempts = 1, BackoffRate = 2, MaxDelaySeconds = 4, JitterStrategy = "FULL"
    },
  ])

  # Compensation must not give up on a transient failure: whatever failed, try again.
  retry_compensation = concat(local.retry_lambda, [
    { ErrorEquals = ["States.ALL"], IntervalSeconds = 1, MaxAttempts = 3, BackoffRate = 2, JitterStrategy = "FULL" },
  ])
}
