# Firehose, one delivery stream per table (main.tf local.tables), each reading the payment event
# stream: the transformation step (transform.tf) keeps the stream's own kind of record, the JQ
# query extracts its partition keys, and each record is converted to Parquet against its Glue
# table (columns the table does not name are dropped; a record that does not fit, a malformed
# one, lands under errors/<table>/). Buffers up to 128 MB or 15 minutes before it writes (fewer,
# larger objects: fewer PUTs, faster scans).

resource "aws_cloudwatch_log_group" "firehose" {
  name              = "/aws/kinesisfirehose/${var.name_prefix}-lake"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn

  tags = var.tags
}

resource "aws_cloudwatch_log_stream" "firehose" {
  for_each = local.tables

  name           = "${each.key}-S3Delivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  for_each = local.tables

  name        = each.value.delivery_stream
  destination = "extended_s3"

  # Server-side encryption of the delivery stream itself applies to Direct PUT only; records
  # arrive from the stream encrypted with its key and leave encrypted with the lake's.
  kinesis_source_configuration {
    kinesis_stream_arn = var.source_stream_arn
    role_arn           = aws_iam_role.firehose.arn
  }

  extended_s3_configuration {
    role_arn    = aws_iam_role.firehose.arn
    bucket_arn  = module.lake_bucket.arn
    kms_key_arn = var.kms_key_arn

    buffering_size     = var.buffering.size_mb
    buffering_interval = var.buffering.interval_s
    # Parquet compresses its pages itself (SNAPPY below); Firehose's own compression must be off.
    compression_format = "UNCOMPRESSED"

    prefix              = "${each.key}/${each.value.partitions}"
    error_output_prefix = "errors/${each.key}/!{firehose:error-output-type}/event_date=!{timestamp:yyyy-MM-dd}/"

    dynamic_partitioning_configuration {
      enabled        = true
      retry_duration = 300
    }

    # The transformation step first (transform.tf), then the partition keys from its output.
    processing_configuration {
      enabled = true

      processors {
        type = "Lambda"

        parameters {
          parameter_name  = "LambdaArn"
          parameter_value = "${module.transform.function_arn}:$LATEST"
        }
      }

      processors {
        type = "MetadataExtraction"

        parameters {
          parameter_name  = "JsonParsingEngine"
          parameter_value = "JQ-1.6"
        }
        parameters {
          parameter_name  = "MetadataExtractionQuery"
          parameter_value = each.value.partition_query
        }
      }
    }

    data_format_conversion_configuration {
      enabled = true

      input_format_configuration {
        deserializer {
          hive_json_ser_de {
            # occurred_at as the workflow writes it: 2026-01-31T12:00:00.123+00:00 (Joda patterns).
            timestamp_formats = ["yyyy-MM-dd'T'HH:mm:ss.SSSZZ", "yyyy-MM-dd'T'HH:mm:ssZZ"]
          }
        }
      }

      output_format_configuration {
        serializer {
          parquet_ser_de {
            compression = "SNAPPY"
          }
        }
      }

      schema_configuration {
        catalog_id    = local.account_id
        database_name = aws_glue_catalog_database.this.name
        table_name    = aws_glue_catalog_table.this[each.key].name
        region        = local.region
        role_arn      = aws_iam_role.firehose.arn
        version_id    = "LATEST"
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.firehose[each.key].name
    }
  }

  tags = var.tags

  # Firehose checks its role's permissions when the stream is created.
  depends_on = [aws_iam_role_policy.firehose]
}

moved {
  from = aws_kinesis_firehose_delivery_stream.this
  to   = aws_kinesis_firehose_delivery_stream.this["payment_events"]
}
