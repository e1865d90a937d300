output "table_name" {
  description = "The endpoints and delivery log table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the endpoints and delivery log table."
  value       = aws_dynamodb_table.this.arn
}

output "api_function_name" {
  description = "Name of the webhook endpoint routes' function."
  value       = module.api.function_name
}

output "api_invoke_arn" {
  description = "Invoke ARN of the webhook endpoint routes' function (payment_workflow's var.webhooks)."
  value       = module.api.invoke_arn
}

output "delivery_function_name" {
  description = "Name of the webhook delivery function."
  value       = module.delivery.function_name
}

output "events_queue_url" {
  description = "The queue the webhook rule copies bus events to."
  value       = aws_sqs_queue.this["events"].url
}

output "delivery_queue_url" {
  description = "The queue of delivery attempts."
  value       = aws_sqs_queue.this["deliveries"].url
}

output "dead_letter_queue_urls" {
  description = "Dead-letter queues by source queue (events, deliveries)."
  value       = { for k, q in aws_sqs_queue.dead_letter : k => q.url }
}

output "endpoint_policy" {
  description = "The endpoint URL rules in force (true: an opt-out, local only)."
  value       = var.endpoint_policy
}
