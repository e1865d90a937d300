# State moves for environments applied before the payment workflow became its own module:
# the table, the function, the state machine and the API move without being replaced (the
# payments table has deletion protection, so a replacement would fail anyway).

moved {
  from = aws_dynamodb_table.payments
  to   = module.payment_workflow.aws_dynamodb_table.payments
}

moved {
  from = aws_cloudwatch_log_group.workflow
  to   = module.payment_workflow.aws_cloudwatch_log_group.workflow
}

moved {
  from = aws_iam_role.workflow
  to   = module.payment_workflow.aws_iam_role.workflow
}

moved {
  from = aws_iam_role_policy.workflow
  to   = module.payment_workflow.aws_iam_role_policy.workflow
}

moved {
  from = aws_sfn_state_machine.payment
  to   = module.payment_workflow.aws_sfn_state_machine.payment
}

moved {
  from = aws_api_gateway_rest_api.this
  to   = module.payment_workflow.aws_api_gateway_rest_api.this
}

moved {
  from = aws_api_gateway_resource.v1
  to   = module.payment_workflow.aws_api_gateway_resource.v1
}

moved {
  from = aws_api_gateway_resource.tokens
  to   = module.payment_workflow.aws_api_gateway_resource.tokens
}

moved {
  from = aws_api_gateway_resource.token
  to   = module.payment_workflow.aws_api_gateway_resource.token
}

moved {
  from = aws_api_gateway_resource.detokenize
  to   = module.payment_workflow.aws_api_gateway_resource.detokenize
}

moved {
  from = aws_api_gateway_request_validator.body
  to   = module.payment_workflow.aws_api_gateway_request_validator.body
}

moved {
  from = aws_api_gateway_method.this
  to   = module.payment_workflow.aws_api_gateway_method.this
}

moved {
  from = aws_api_gateway_integration.this
  to   = module.payment_workflow.aws_api_gateway_integration.this
}

moved {
  from = aws_lambda_permission.api
  to   = module.payment_workflow.aws_lambda_permission.api
}

moved {
  from = aws_api_gateway_deployment.this
  to   = module.payment_workflow.aws_api_gateway_deployment.this
}

moved {
  from = aws_cloudwatch_log_group.api_access
  to   = module.payment_workflow.aws_cloudwatch_log_group.api_access
}

moved {
  from = aws_api_gateway_stage.v1
  to   = module.payment_workflow.aws_api_gateway_stage.v1
}

moved {
  from = aws_api_gateway_method_settings.all
  to   = module.payment_workflow.aws_api_gateway_method_settings.all
}

moved {
  from = aws_wafv2_web_acl.api
  to   = module.payment_workflow.aws_wafv2_web_acl.api
}

moved {
  from = aws_wafv2_web_acl_association.api
  to   = module.payment_workflow.aws_wafv2_web_acl_association.api
}
