# Unit tests: plan only, against a mocked AWS provider. They assert what protects the lake:
# Parquet against the Glue table (the allow-list), partitions and errors where the projection
# and the retention expect them, the customer key with bucket keys on every data bucket, TLS
# only, no public access, access logs, retention per prefix, an enforced and encrypted Athena
# workgroup with a scan limit, one named query per .sql file, least privilege for Firehose; and
# that bad inputs are refused.

mock_provider "aws" {
  override_during = plan

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "111122223333" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  override_data {
    target = data.aws_region.current
    values = { id = "eu-west-1", name = "eu-west-1" }
  }
  override_resource {
    target = module.lake_bucket.aws_s3_bucket.this
    values = { id = "pay-lake-111122223333", arn = "arn:aws:s3:::pay-lake-111122223333" }
  }
  override_resource {
    target = module.results_bucket.aws_s3_bucket.this
    values = { id = "pay-lake-results-111122223333", arn = "arn:aws:s3:::pay-lake-results-111122223333" }
  }
  override_resource {
    target = aws_s3_bucket.access_logs
    values = { id = "pay-lake-access-logs-111122223333", arn = "arn:aws:s3:::pay-lake-access-logs-111122223333" }
  }
  override_resource {
    target = aws_athena_workgroup.this
    values = { id = "pay-lake" }
  }
  override_resource {
    target = aws_iam_role.firehose
    values = { arn = "arn:aws:iam::111122223333:role/pay-payment-events-to-lake-role" }
  }
  override_resource {
    target = module.transform.aws_lambda_function.this
    values = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:pay-lake-transform" }
  }
  override_resource {
    target = module.transform.aws_iam_role.this
    values = { arn = "arn:aws:iam::111122223333:role/pay-lake-transform-role" }
  }
  override_resource {
    target = module.transform.aws_cloudwatch_log_group.this
    values = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/pay-lake-transform" }
  }
  override_resource {
    target = aws_dynamodb_table.pseudonym_keys
    values = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/pay-lake-pseudonym-keys" }
  }
  override_resource {
    target = aws_cloudwatch_log_group.firehose
    values = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/kinesisfirehose/pay-payment-events-to-lake" }
  }
}

variables {
  name_prefix               = "pay"
  source_stream_arn         = "arn:aws:kinesis:eu-west-1:111122223333:stream/pay-payment-stream"
  source_stream_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  kms_key_arn               = "arn:aws:kms:eu-west-1:111122223333:key/22222222-3333-4444-5555-666666666666"
  logs_kms_key_arn          = "arn:aws:kms:eu-west-1:111122223333:key/66666666-7777-8888-9999-000000000000"
  transform = {
    lambda_package = "tests/fixtures/functions.zip"
  }
}

run "the_module_with_its_defaults" {
  command = plan

  # --- Firehose: from the stream, Parquet against the Glue table, partitioned, errors apart
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this["payment_events"].kinesis_source_configuration[0].kinesis_stream_arn == var.source_stream_arn
    error_message = "Firehose must read the payment event stream"
  }
  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].data_format_conversion_configuration[0].enabled
      && aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].data_format_conversion_configuration[0].output_format_configuration[0].serializer[0].parquet_ser_de[0].compression == "SNAPPY"
      && aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].data_format_conversion_configuration[0].schema_configuration[0].table_name == "payment_events"
      && aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].data_format_conversion_configuration[0].schema_configuration[0].database_name == "pay_lake"
    )
    error_message = "records must be converted to Parquet against the payment_events table"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].prefix == "payment_events/event_date=!{partitionKeyFromQuery:event_date}/event_type=!{partitionKeyFromQuery:event_type}/"
    error_message = "objects must be partitioned by event date and event type, as the projection reads them"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].dynamic_partitioning_configuration[0].enabled && one([for p in aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].processing_configuration[0].processors[1].parameters : p.parameter_value if p.parameter_name == "MetadataExtractionQuery"]) == "{event_date: .occurred_at[0:10], event_type: (.event_id | split(\":\")[1])}"
    error_message = "the partition keys must be extracted from occurred_at and event_id"
  }
  assert {
    condition     = [for p in aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].processing_configuration[0].processors : p.type] == ["Lambda", "MetadataExtraction"] && one([for p in aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].processing_configuration[0].processors[0].parameters : p.parameter_value if p.parameter_name == "LambdaArn"]) == "arn:aws:lambda:eu-west-1:111122223333:function:pay-lake-transform:$LATEST"
    error_message = "every record must pass the transformation step before its partition keys are read"
  }
  assert {
    condition     = aws_cloudwatch_log_metric_filter.redactions.pattern == "{ $.lake_redaction = \"card_number\" }" && aws_cloudwatch_log_metric_filter.redactions.metric_transformation[0].value == "$.count" && aws_cloudwatch_metric_alarm.redactions.threshold == 1
    error_message = "a redaction must count in CardNumbersRedacted and raise its alarm"
  }
  assert {
    condition     = startswith(aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].error_output_prefix, "errors/payment_events/!{firehose:error-output-type}/")
    error_message = "records that fail conversion must land under errors/, outside the table"
  }
  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].buffering_size == 128
      && aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].buffering_interval == 900
      && aws_kinesis_firehose_delivery_stream.this["payment_events"].extended_s3_configuration[0].kms_key_arn == var.kms_key_arn
    )
    error_message = "Firehose must buffer 128 MB / 900 s by default and write with the lake key"
  }

  # --- Glue: the allow-list, projected partitions
  assert {
    condition     = [for c in aws_glue_catalog_table.this["payment_events"].storage_descriptor[0].columns : c.name] == [for c in jsondecode(file("schema/payment_events.json")).columns : c.name]
    error_message = "the table's columns must be the allow-list in schema/payment_events.json"
  }
  assert {
    condition     = length(setintersection([for c in aws_glue_catalog_table.this["payment_events"].storage_descriptor[0].columns : c.name], ["token", "device_id", "ip", "number", "pan", "cvc"])) == 0
    error_message = "the token, the raw device id and IP, and anything like a card number must not be columns"
  }
  assert {
    condition = (
      aws_glue_catalog_table.this["payment_events"].parameters["projection.enabled"] == "true"
      && aws_glue_catalog_table.this["payment_events"].parameters["storage.location.template"] == "s3://pay-lake-111122223333/payment_events/event_date=$${event_date}/event_type=$${event_type}/"
      && [for k in aws_glue_catalog_table.this["payment_events"].partition_keys : k.name] == ["event_date", "event_type"]
    )
    error_message = "partitions must be projected over the layout Firehose writes"
  }

  # --- buckets
  assert {
    condition = alltrue([for rule in [module.lake_bucket.configuration.encryption, module.results_bucket.configuration.encryption] :
      rule.apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
      && rule.apply_server_side_encryption_by_default[0].kms_master_key_id == var.kms_key_arn
    && rule.bucket_key_enabled])
    error_message = "both data buckets must use the customer key with S3 bucket keys"
  }
  assert {
    condition = alltrue([for p in [module.lake_bucket.configuration.public_access_block, module.results_bucket.configuration.public_access_block, aws_s3_bucket_public_access_block.access_logs] :
    p.block_public_acls && p.block_public_policy && p.ignore_public_acls && p.restrict_public_buckets])
    error_message = "public access must be blocked on every bucket"
  }
  assert {
    condition     = alltrue([for v in [module.lake_bucket.configuration, module.results_bucket.configuration] : v.versioning == "Enabled"])
    error_message = "both data buckets must be versioned"
  }
  assert {
    condition = alltrue([for p in [module.lake_bucket.configuration, module.results_bucket.configuration, aws_s3_bucket_policy.access_logs] :
    anytrue([for s in jsondecode(p.policy).Statement : s.Effect == "Deny" && try(s.Condition.Bool["aws:SecureTransport"], "") == "false"])])
    error_message = "every bucket must refuse requests without TLS"
  }
  assert {
    condition     = alltrue([for l in [module.lake_bucket.configuration, module.results_bucket.configuration] : l.log_target_bucket == "pay-lake-access-logs-111122223333"])
    error_message = "both data buckets must log access to the access-log bucket"
  }
  assert {
    condition = (
      one([for r in module.lake_bucket.configuration.lifecycle_rules : r if r.id == "payment-events-retention"]).expiration[0].days == 730
      && one([for r in module.lake_bucket.configuration.lifecycle_rules : r if r.id == "payment-events-retention"]).filter[0].prefix == "payment_events/"
      && length(one([for r in module.lake_bucket.configuration.lifecycle_rules : r if r.id == "payment-events-retention"]).transition) == 1
      && alltrue([for t in one([for r in module.lake_bucket.configuration.lifecycle_rules : r if r.id == "payment-events-retention"]).transition : t.storage_class == "STANDARD_IA" && t.days == 90])
      && one([for r in module.lake_bucket.configuration.lifecycle_rules : r if r.id == "conversion-errors-retention"]).expiration[0].days == 30
      && module.results_bucket.configuration.lifecycle_rules[0].expiration[0].days == 7
      && aws_s3_bucket_lifecycle_configuration.access_logs.rule[0].expiration[0].days == 365
    )
    error_message = "each table, the query results and the access logs must expire on their own retention"
  }

  # --- Athena
  assert {
    condition = (
      aws_athena_workgroup.this.configuration[0].enforce_workgroup_configuration
      && aws_athena_workgroup.this.configuration[0].bytes_scanned_cutoff_per_query == 10737418240
      && aws_athena_workgroup.this.configuration[0].result_configuration[0].encryption_configuration[0].encryption_option == "SSE_KMS"
      && aws_athena_workgroup.this.configuration[0].result_configuration[0].encryption_configuration[0].kms_key_arn == var.kms_key_arn
    )
    error_message = "the workgroup must enforce its configuration, encrypt results with the customer key and cap bytes scanned"
  }
  assert {
    condition     = toset(keys(aws_athena_named_query.this)) == toset([for f in fileset("queries", "*.sql") : trimsuffix(f, ".sql")]) && length(aws_athena_named_query.this) >= 4
    error_message = "every .sql file in queries/ must be a named query"
  }
  assert {
    condition     = aws_athena_named_query.this["daily_settlement"].query == file("queries/daily_settlement.sql") && aws_athena_named_query.this["daily_settlement"].database == "pay_lake"
    error_message = "a named query's text must be its file's, over the lake's database"
  }

  # --- least privilege for Firehose
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.firehose.policy).Statement :
    alltrue([for a in flatten([s.Action]) : !endswith(a, "*")]) && alltrue([for r in flatten([s.Resource]) : r != "*"])])
    error_message = "no wildcard action or resource for Firehose"
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.firehose.policy).Statement :
    can(s.Condition["StringEquals"]["kms:ViaService"]) if anytrue([for a in flatten([s.Action]) : startswith(a, "kms:")])])
    error_message = "every key grant of Firehose names the service it goes through"
  }
  assert {
    condition     = jsondecode(aws_iam_role.firehose.assume_role_policy).Statement[0].Condition.StringEquals["sts:ExternalId"] == "111122223333"
    error_message = "only Firehose acting for this account may assume the role"
  }

  # --- fraud alerts: their own delivery stream and table, partitioned by the alert's day
  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.this["fraud_alerts"].kinesis_source_configuration[0].kinesis_stream_arn == var.source_stream_arn
      && aws_kinesis_firehose_delivery_stream.this["fraud_alerts"].extended_s3_configuration[0].prefix == "fraud_alerts/event_date=!{partitionKeyFromQuery:event_date}/"
      && aws_kinesis_firehose_delivery_stream.this["fraud_alerts"].extended_s3_configuration[0].data_format_conversion_configuration[0].schema_configuration[0].table_name == "fraud_alerts"
      && one([for p in aws_kinesis_firehose_delivery_stream.this["fraud_alerts"].extended_s3_configuration[0].processing_configuration[0].processors[1].parameters : p.parameter_value if p.parameter_name == "MetadataExtractionQuery"]) == "{event_date: .last_seen[0:10]}"
    )
    error_message = "fraud alerts reach their own table through their own delivery stream, by day"
  }
  assert {
    condition     = !contains([for c in aws_glue_catalog_table.this["fraud_alerts"].storage_descriptor[0].columns : c.name], "device_id") && [for k in aws_glue_catalog_table.this["fraud_alerts"].partition_keys : k.name] == ["event_date"]
    error_message = "the alerts table is partitioned by day and names no raw identifier"
  }

  # --- pseudonymisation secrets: the lake key, no backups to restore an erased secret from
  assert {
    condition     = aws_dynamodb_table.pseudonym_keys.server_side_encryption[0].enabled && aws_dynamodb_table.pseudonym_keys.server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "the pseudonym secrets are encrypted with the lake's customer-managed key"
  }
  assert {
    condition     = aws_dynamodb_table.pseudonym_keys.point_in_time_recovery[0].enabled == false
    error_message = "point-in-time recovery would keep erased customers' secrets restorable"
  }
  assert {
    condition     = aws_dynamodb_table.pseudonym_keys.deletion_protection_enabled
    error_message = "the secrets table is protected from deletion by default"
  }
  assert {
    condition     = join(",", sort(flatten([for s in local.transform_statements : s.actions if startswith(s.actions[0], "dynamodb:")]))) == "dynamodb:BatchGetItem,dynamodb:GetItem,dynamodb:PutItem"
    error_message = "the transformation step reads and creates secrets; it cannot scan, change or delete them"
  }
  assert {
    condition     = join(",", flatten([for s in data.aws_iam_policy_document.erasure.statement : [for a in s.actions : a if startswith(a, "dynamodb:")]])) == "dynamodb:DeleteItem"
    error_message = "erasure deletes a secret and nothing else"
  }
}

run "bad_values_are_refused" {
  command = plan

  variables {
    name_prefix               = "Pay_Lake"
    source_stream_arn         = "arn:aws:sqs:eu-west-1:111122223333:queue"
    source_stream_kms_key_arn = "alias/aws/kinesis"
    kms_key_arn               = "alias/aws/s3"
    logs_kms_key_arn          = "alias/aws/logs"
    log_retention_days        = 30
    buffering                 = { size_mb = 1, interval_s = 0 }
    retention                 = { payment_events_days = 9999, transition_days = 10, access_logs_days = 30 }
    athena                    = { bytes_scanned_cutoff = 0 }
    transform                 = { lambda_package = "functions" }
  }

  expect_failures = [
    var.name_prefix,
    var.source_stream_arn,
    var.source_stream_kms_key_arn,
    var.kms_key_arn,
    var.logs_kms_key_arn,
    var.log_retention_days,
    var.buffering,
    var.retention,
    var.athena,
    var.transform,
  ]
}
