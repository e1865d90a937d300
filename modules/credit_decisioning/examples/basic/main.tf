terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

# The module on its own: the tables and the credit API in a VPC, EUR and GBP offered.
module "credit_decisioning" {
  source = "../../"

  name_prefix      = "example"
  environment      = "dev"
  lambda_package   = "${path.module}/../../tests/fixtures/package.py"
  data_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  logs_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/66666666-7777-8888-9999-000000000000"
  vpc_config = {
    subnet_ids         = ["subnet-a", "subnet-b"]
    security_group_ids = ["sg-1"]
  }
  credit_policy = {
    EUR = { min_amount = 3000, max_amount = 200000, customer_limit = 300000, merchant_limit = 50000000, living_costs_buffer = 80000 }
    GBP = { min_amount = 3000, max_amount = 170000, customer_limit = 250000, merchant_limit = 40000000, living_costs_buffer = 70000 }
  }
  eur_rates = { GBP = "1.17" }
}
