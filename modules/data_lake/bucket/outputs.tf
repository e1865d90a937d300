output "name" {
  description = "Bucket name."
  value       = aws_s3_bucket.this.id
}

output "arn" {
  description = "Bucket ARN."
  value       = aws_s3_bucket.this.arn
}

output "configuration" {
  description = "The bucket's protections as planned (encryption, versioning, public access block, policy, access logging, lifecycle rules): what the data_lake tests assert."
  value = {
    encryption          = one(aws_s3_bucket_server_side_encryption_configuration.this.rule)
    versioning          = aws_s3_bucket_versioning.this.versioning_configuration[0].status
    public_access_block = aws_s3_bucket_public_access_block.this
    policy              = aws_s3_bucket_policy.this.policy
    log_target_bucket   = aws_s3_bucket_logging.this.target_bucket
    lifecycle_rules     = aws_s3_bucket_lifecycle_configuration.this.rule
  }
}
