# The real hashicorp/aws provider, pointed at the local emulator. Nothing else differs from AWS:
# the credentials are the emulator's fixed test keys and every endpoint below is the emulator.
provider "aws" {
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = false
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  allowed_account_ids         = [var.emulator_account_id]

  endpoints {
    apigateway     = var.endpoint_url
    apigatewayv2   = var.endpoint_url
    athena         = var.endpoint_url
    cloudtrail     = var.endpoint_url
    cloudwatch     = var.endpoint_url
    dynamodb       = var.endpoint_url
    ec2            = var.endpoint_url
    events         = var.endpoint_url
    firehose       = var.endpoint_url
    glue           = var.endpoint_url
    iam            = var.endpoint_url
    kinesis        = var.endpoint_url
    kms            = var.endpoint_url
    lambda         = var.endpoint_url
    logs           = var.endpoint_url
    s3             = var.endpoint_url
    secretsmanager = var.endpoint_url
    sfn            = var.endpoint_url
    sns            = var.endpoint_url
    sqs            = var.endpoint_url
    sts            = var.endpoint_url
    wafv2          = var.endpoint_url
  }

  default_tags {
    tags = {
      Environment = "local"
      PCIScope    = "cde"
      DataClass   = "unclassified" # each resource that holds data says what (policies/README.md)
      Owner       = var.owner
      ManagedBy   = "terraform"
    }
  }
}
