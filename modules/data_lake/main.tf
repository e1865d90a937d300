# The payment data lake: Firehose reads the payment event stream and writes Parquet, converted
# against the Glue table below, into the lake bucket, partitioned by event date and event type;
# Athena queries it through a workgroup with enforced, encrypted results and a scan limit.
#
# The Glue schema is the allow-list (schema/payment_events.json): Parquet conversion writes only
# the table's columns, so a field the table does not name never lands. What stays out, and why,
# is listed in the same file and in docs/lake.md.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id

  lake_bucket_name         = "${var.name_prefix}-lake-${local.account_id}"
  results_bucket_name      = "${var.name_prefix}-lake-results-${local.account_id}"
  access_log_bucket_name   = "${var.name_prefix}-lake-access-logs-${local.account_id}"
  transform_name           = "${var.name_prefix}-lake-transform"
  pseudonym_key_table_name = "${var.name_prefix}-lake-pseudonym-keys"
  database_name            = replace("${var.name_prefix}_lake", "-", "_")
  workgroup_name           = "${var.name_prefix}-lake"

  # One Glue table and one delivery stream per kind of record on the stream; the transformation
  # step keeps each delivery stream's own kind and drops the other. Each table's columns are its
  # schema file (the allow-list); Firehose writes Hive-style partitions the projection reads.
  tables = {
    payment_events = {
      delivery_stream = "${var.name_prefix}-payment-events-to-lake"
      schema          = jsondecode(file("${path.module}/schema/payment_events.json"))
      # event_type from the event id (<payment id>:<event type>[:<operation key>], deterministic
      # by contract); event_date from occurred_at, an ISO-8601 UTC timestamp.
      partition_query = "{event_date: .occurred_at[0:10], event_type: (.event_id | split(\":\")[1])}"
      partitions      = "event_date=!{partitionKeyFromQuery:event_date}/event_type=!{partitionKeyFromQuery:event_type}/"
      template        = "event_date=$${event_date}/event_type=$${event_type}/"
    }
    fraud_alerts = {
      delivery_stream = "${var.name_prefix}-fraud-alerts-to-lake"
      schema          = jsondecode(file("${path.module}/schema/fraud_alerts.json"))
      # An alert's day is the day of the attempt that raised it.
      partition_query = "{event_date: .last_seen[0:10]}"
      partitions      = "event_date=!{partitionKeyFromQuery:event_date}/"
      template        = "event_date=$${event_date}/"
    }
  }
}
