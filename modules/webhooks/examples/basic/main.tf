terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

# Webhooks on an existing payment bus, with the default endpoint rules (https, public hosts) and
# retries (backoff from 30 s, at most an hour apart, for 24 hours). The Payment API's routes come
# from payment_workflow (var.webhooks there, api_gateway here); modules/platform wires both.
module "webhooks" {
  source = "../../"

  name_prefix      = "example"
  environment      = "dev"
  lambda_package   = "${path.module}/../../tests/fixtures/package.py"
  data_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  logs_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/66666666-7777-8888-9999-000000000000"
  vpc_config = {
    subnet_ids         = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }
  event_bus = {
    name = "example-events"
    arn  = "arn:aws:events:eu-west-1:111122223333:event-bus/example-events"
  }
}
