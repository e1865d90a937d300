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
  value       = aws_glue_catalog_table.this["payment_events"].name
}

output "delivery_stream" {
  description = "The Firehose delivery stream from the payment event stream into the lake: name and ARN."
  value = {
    name = aws_kinesis_firehose_delivery_stream.this["payment_events"].name
    arn  = aws_kinesis_firehose_delivery_stream.this["payment_events"].arn
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

output "pseudonym_key_table" {
  description = "The per-customer pseudonymisation secrets (name and ARN): erasing a customer deletes their item (docs/lake.md)."
  value = {
    name = aws_dynamodb_table.pseudonym_keys.name
    arn  = aws_dynamodb_table.pseudonym_keys.arn
  }
}

output "erasure_policy_json" {
  description = "IAM policy for the role that erases customers from the lake: DeleteItem on the pseudonym key table and its key through DynamoDB only."
  value       = data.aws_iam_policy_document.erasure.json
}

output "tables" {
  description = "Each Glue table of the lake with the delivery stream that fills it: {<table> = {delivery_stream_name, delivery_stream_arn}}."
  value = {
    for table, stream in aws_kinesis_firehose_delivery_stream.this : table => {
      delivery_stream_name = stream.name
      delivery_stream_arn  = stream.arn
    }
  }
}
