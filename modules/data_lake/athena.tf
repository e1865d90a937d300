# Athena: a workgroup whose settings clients cannot override (results location, encryption with
# the customer key, the scan limit), and one named query per .sql file in queries/. The same
# files run locally through DuckDB (make lake-query; local/lake_query.py transpiles them).

resource "aws_athena_workgroup" "this" {
  name          = local.workgroup_name
  description   = "Queries over the payment data lake (${aws_glue_catalog_database.this.name})."
  force_destroy = var.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena.bytes_scanned_cutoff

    result_configuration {
      output_location = "s3://${module.results_bucket.name}/results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }

  tags = var.tags
}

resource "aws_athena_named_query" "this" {
  for_each = local.named_queries

  name        = each.key
  description = each.value.description
  workgroup   = aws_athena_workgroup.this.id
  database    = aws_glue_catalog_database.this.name
  query       = each.value.query
}

locals {
  # queries/<name>.sql; its first line, a "-- " comment, is the query's description.
  named_queries = {
    for file in fileset("${path.module}/queries", "*.sql") : trimsuffix(file, ".sql") => {
      query       = file("${path.module}/queries/${file}")
      description = trimspace(trimprefix(split("\n", file("${path.module}/queries/${file}"))[0], "--"))
    }
  }
}
