# The payment data lake (modules/data_lake): Firehose reads the fraud stream's Kinesis stream
# (the payment events, tokenized), a transformation step redacts any card number that got
# through anyway, and the events land as Parquet in the lake bucket under the Glue table the
# Athena workgroup's named queries read.
#
# Keys: the stream is the application key's (Firehose decrypts through Kinesis only); the lake,
# its query results and the transform's environment are the data-lake key's. The transform
# runs in the CDE's private subnets: it is the step that sees a card number if a producer ever
# broke the event contract, so it sits where such data may be.

module "data_lake" {
  source = "../data_lake"

  name_prefix               = var.name_prefix
  source_stream_arn         = module.fraud_stream.stream_arn
  source_stream_kms_key_arn = module.kms.application_key_arn
  kms_key_arn               = module.kms.data_lake_key_arn
  logs_kms_key_arn          = module.kms.logs_key_arn
  log_retention_days        = var.log_retention_days
  buffering                 = var.data_lake.buffering
  retention                 = var.data_lake.retention
  athena                    = { bytes_scanned_cutoff = var.data_lake.athena_bytes_scanned_cutoff }
  force_destroy             = var.data_lake.force_destroy
  deletion_protection       = var.deletion_protection

  transform = {
    lambda_package      = var.lambda_package
    runtime             = var.lambda_runtime
    vpc_config          = local.cde_vpc_config
    alarm_sns_topic_arn = module.audit.alarm_topic_arn
  }

  tags = var.tags
}
