output "trail_arn" {
  description = "ARN of the multi-region CloudTrail trail."
  value       = aws_cloudtrail.this.arn
}

output "trail_name" {
  description = "Name of the trail."
  value       = aws_cloudtrail.this.name
}

output "archive_bucket_name" {
  description = "Name of the Object Lock log archive bucket."
  value       = aws_s3_bucket.archive.id
}

output "archive_bucket_arn" {
  description = "ARN of the log archive bucket."
  value       = aws_s3_bucket.archive.arn
}

output "access_log_bucket_name" {
  description = "Name of the bucket receiving the archive bucket's server access logs."
  value       = aws_s3_bucket.access_logs.id
}

output "access_log_bucket_arn" {
  description = "ARN of the access-log bucket."
  value       = aws_s3_bucket.access_logs.arn
}

output "log_group_name" {
  description = "Name of the CloudTrail CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the CloudTrail CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "alarm_topic_arn" {
  description = "ARN of the KMS-encrypted security alarm topic; pass it to lambda_function alarm_sns_topic_arn."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_arns" {
  description = "Security alarm ARN by event (root_account_usage, unauthorized_api_calls, kms_key_disabled_or_scheduled_for_deletion, iam_policy_changes, cloudtrail_configuration_changes, security_group_changes)."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.arn }
}

output "alarm_subscribers" {
  description = "protocol:endpoint of each subscriber of the alarm topic (an email subscriber receives nothing until it confirms)."
  value       = keys(aws_sns_topic_subscription.alarms)
}
