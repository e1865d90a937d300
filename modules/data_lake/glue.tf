# The catalog: one database, and one table per kind of record (payment_events, fraud_alerts),
# whose columns are the allow-list (schema/<table>.json). Partition projection computes the
# partitions from the table's parameters, so no crawler runs and no partition is ever added: a
# new day or event type is queryable as soon as Firehose writes it.

resource "aws_glue_catalog_database" "this" {
  name        = local.database_name
  description = "The payment data lake: tokenized payment events only (docs/lake.md)."

  tags = var.tags
}

resource "aws_glue_catalog_table" "this" {
  for_each = local.tables

  name          = each.key
  database_name = aws_glue_catalog_database.this.name
  description   = each.value.schema.description
  table_type    = "EXTERNAL_TABLE"

  parameters = merge(
    {
      EXTERNAL                              = "TRUE"
      classification                        = "parquet"
      "parquet.compression"                 = "SNAPPY"
      "projection.enabled"                  = "true"
      "projection.event_date.type"          = "date"
      "projection.event_date.format"        = "yyyy-MM-dd"
      "projection.event_date.range"         = "2024-01-01,NOW"
      "projection.event_date.interval"      = "1"
      "projection.event_date.interval.unit" = "DAYS"
      "storage.location.template"           = "s3://${module.lake_bucket.name}/${each.key}/${each.value.template}"
    },
    # The event types are an enum of the schema's; a table without them is partitioned by day.
    can(each.value.schema.event_types) ? {
      "projection.event_type.type"   = "enum"
      "projection.event_type.values" = join(",", each.value.schema.event_types)
    } : {},
  )

  dynamic "partition_keys" {
    for_each = each.value.schema.partition_keys
    content {
      name    = partition_keys.value.name
      type    = partition_keys.value.type
      comment = partition_keys.value.comment
    }
  }

  storage_descriptor {
    location      = "s3://${module.lake_bucket.name}/${each.key}/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      parameters            = { "serialization.format" = "1" }
    }

    dynamic "columns" {
      for_each = each.value.schema.columns
      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }
}

moved {
  from = aws_glue_catalog_table.payment_events
  to   = aws_glue_catalog_table.this["payment_events"]
}
