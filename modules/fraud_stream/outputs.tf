output "stream_arn" {
  description = "ARN of the payment event stream (Kinesis)."
  value       = aws_kinesis_stream.this.arn
}

output "stream_name" {
  description = "Name of the payment event stream."
  value       = aws_kinesis_stream.this.name
}

output "feature_table_name" {
  description = "DynamoDB table of the windowed fraud counters (read by the hot path's scorer)."
  value       = aws_dynamodb_table.this["features"].name
}

output "feature_table_arn" {
  description = "ARN of the feature table."
  value       = aws_dynamodb_table.this["features"].arn
}

output "block_list_table_name" {
  description = "DynamoDB table of blocked cards, devices and IPs (read by the hot path)."
  value       = aws_dynamodb_table.this["block_list"].name
}

output "block_list_table_arn" {
  description = "ARN of the block-list table."
  value       = aws_dynamodb_table.this["block_list"].arn
}

output "consumer" {
  description = "The consumer function: function_name, function_arn, role_arn, log_group_name, failure_queue_arn (also the event source mapping's on-failure destination)."
  value = {
    function_name     = module.consumer.function_name
    function_arn      = module.consumer.function_arn
    role_arn          = module.consumer.role_arn
    log_group_name    = module.consumer.log_group_name
    failure_queue_arn = module.consumer.failure_queue_arn
    failure_queue_url = module.consumer.failure_queue_url
  }
}

output "alert_rate_alarm_name" {
  description = "Name of the alert-rate alarm."
  value       = aws_cloudwatch_metric_alarm.alert_rate.alarm_name
}
