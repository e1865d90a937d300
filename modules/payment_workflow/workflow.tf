# The payment hot path: an EXPRESS state machine (payments_api starts it synchronously).
# validate -> tokenize (vault) -> score_fraud -> decide_sca -> process_payment -> post_ledger,
# then a payment event on the bus. The definition lives in templates/ (ASL, Amazon States
# Language) and gets only ARNs and names from here.

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
    validate_function_arn        = module.step["validate_payment"].function_arn
    tokenize_function_arn        = var.tokenize_function_arn
    score_fraud_function_arn     = module.step["score_fraud"].function_arn
    decide_sca_function_arn      = module.step["decide_sca"].function_arn
    process_payment_function_arn = module.step["process_payment"].function_arn
    post_ledger_function_arn     = module.step["post_ledger"].function_arn
    event_bus_name               = aws_cloudwatch_event_bus.payments.name
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
