output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "Invoke ARN of the function, for API Gateway integrations."
  value       = aws_lambda_function.this.invoke_arn
}

output "role_name" {
  description = "Name of the execution role (attach further policies here only through the module's policy_statements)."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the execution role; pass it to the kms module's key_users."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Name of the KMS-encrypted log group /aws/lambda/<name>."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "failure_queue_arn" {
  description = "ARN of the encrypted SQS queue that receives failed asynchronous invocations; null when failure_queue_enabled = false."
  value       = one(aws_sqs_queue.failures[*].arn)
}

output "failure_queue_url" {
  description = "URL of the on-failure queue; null when failure_queue_enabled = false."
  value       = one(aws_sqs_queue.failures[*].id)
}

output "alarm_arns" {
  description = "ARNs of the errors and throttles alarms."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.arn }
}

output "log_level" {
  description = "The function's Powertools log level (POWERTOOLS_LOG_LEVEL)."
  value       = aws_lambda_function.this.environment[0].variables["POWERTOOLS_LOG_LEVEL"]
}
