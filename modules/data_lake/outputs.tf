output "lake_bucket" {
  description = "The lake bucket: name and ARN (payment_events/ holds the Parquet, errors/ what failed conversion)."
  value = {
    name = module.lake_bucket.name
    arn  = module.lake_bucket.arn
  }
}

output "results_bucket" {
  description = "Athena's query results bucket: name and ARN."
  value = {
    name = module.results_bucket.name
    arn  = module.results_bucket.arn
  }
}

output "access_log_bucket_name" {
  description = "Bucket receiving both buckets' server access logs."
  value       = aws_s3_bucket.access_logs.id
}

output "glue_database_name" {
  description = "Glue database of the lake."
  value       = aws_glue_catalog_database.this.name
}

output "payment_events_table_name" {
  description = "Glue table of the payment events (partitioned by event_date and event_type, projected)."
  value       = aws_glue_catalog_table.payment_events.name
}

output "delivery_stream" {
  description = "The Firehose delivery stream from the payment event stream into the lake: name and ARN."
  value = {
    name = aws_kinesis_firehose_delivery_stream.this.name
    arn  = aws_kinesis_firehose_delivery_stream.this.arn
  }
}

output "athena_workgroup_name" {
  description = "The lake's Athena workgroup (enforced configuration, encrypted results, scan limit)."
  value       = aws_athena_workgroup.this.name
}

output "named_queries" {
  description = "Named query ids by name (one per modules/data_lake/queries/*.sql)."
  value       = { for name, query in aws_athena_named_query.this : name => query.id }
}
