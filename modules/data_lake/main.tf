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

  lake_bucket_name       = "${var.name_prefix}-lake-${local.account_id}"
  results_bucket_name    = "${var.name_prefix}-lake-results-${local.account_id}"
  access_log_bucket_name = "${var.name_prefix}-lake-access-logs-${local.account_id}"
  delivery_stream_name   = "${var.name_prefix}-payment-events-to-lake"
  transform_name         = "${var.name_prefix}-lake-transform"
  database_name          = replace("${var.name_prefix}_lake", "-", "_")
  workgroup_name         = "${var.name_prefix}-lake"

  schema = jsondecode(file("${path.module}/schema/payment_events.json"))

  # Where Firehose writes: one prefix per table, Hive-style partitions the projection below reads.
  table_prefix  = "payment_events/"
  errors_prefix = "errors/payment_events/"
  # event_type from the event id (<payment id>:<event type>[:<operation key>], deterministic by
  # contract); event_date from occurred_at, an ISO-8601 UTC timestamp.
  partition_query = "{event_date: .occurred_at[0:10], event_type: (.event_id | split(\":\")[1])}"
}
