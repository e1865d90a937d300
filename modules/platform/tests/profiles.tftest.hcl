# Unit tests of what environment profiles set: capacity sizes the stage's throttle, each
# function's reserved concurrency and WAF's per-IP limit from one target (capacity.tf), and a
# total the account's Lambda quota cannot hold is refused at plan rather than by the first
# function's creation; the audit archive's lock and the backups reach their modules. Each run
# plans the whole platform against a mocked provider.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1", id = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_availability_zones" {
    defaults = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"], zone_ids = ["euw1-az1", "euw1-az2", "euw1-az3"] }
  }
  mock_data "aws_vpc_endpoint_service" {
    defaults = { availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }
  }
}

variables {
  name_prefix            = "payments-dev"
  environment            = "dev"
  key_administrator_arns = ["arn:aws:iam::111122223333:role/payments-key-admin"]
  lambda_package         = "tests/fixtures/package.zip" # a stand-in: tftest may run before make build
}

run "stage_functions_and_waf_are_sized_from_the_target" {
  command = plan

  variables {
    capacity = { requests_per_second = 5, lambda_concurrency_quota = 1000 }
  }

  # R = ceil(5 x 2) = 10 requests/s; payments_api ceil(10 x 1.5) = 15, process_payment 10,
  # tokenize and assess_risk ceil(10 x 0.2) = 2, the authorizer 1, BNPL ceil(10 x 0.2 x 1.5) = 3.
  assert {
    condition     = output.capacity.api_rate_limit_per_second == 10 && output.capacity.waf_rate_limit_per_5_minutes == 3000
    error_message = "The stage must admit ceil(requests_per_second x headroom) and WAF 300 s of that per address."
  }

  assert {
    condition = output.capacity.reserved_concurrency == {
      merchant_authorizer = 1
      payments_api        = 15
      tokenize            = 2
      assess_risk         = 2
      process_payment     = 10
      bnpl                = 3
      detokenize          = 5
      vault_admin         = 1
      reconcile           = 1
      settle              = 1
      credit_api          = 10
      fraud_consumer      = 4
      lake_transform      = 5
    }
    error_message = "Each hot-path function must reserve ceil(R x share x p99), the others their fixed amount."
  }

  assert {
    condition     = output.capacity.reserved_concurrency_total == 60
    error_message = "The total must be the sum of the reservations."
  }

  # --- no backups unless enabled (backup left at its default here; one run fewer, as each run
  # plans the whole platform)
  assert {
    condition     = length(module.backup) == 0 && !contains(keys(module.kms.keys), "backup") && output.backup_vault_arn == null
    error_message = "Backups (and their key) are made only where backup.enabled says so."
  }
}

run "a_stage_rate_set_by_hand_sizes_the_functions_with_it" {
  command = plan

  variables {
    capacity                  = { requests_per_second = 5 }
    api_rate_limit_per_second = 40
    # The http acquirer behind PrivateLink (a run of its own would plan the platform again).
    acquirer_connector = "http"
    acquirer_http = {
      base_url              = "https://api.acquirer.example/v1"
      credential_secret_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:payments-dev/acquirer-AbCdEf"
    }
    acquirer_egress = {
      mode                  = "privatelink"
      endpoint_service_name = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"
      private_dns_name      = "api.acquirer.example"
    }
  }

  # The stage may never admit more than payments_api can hold: 40 x 1.5 = 60.
  assert {
    condition     = output.capacity.reserved_concurrency.payments_api == 60 && output.capacity.waf_rate_limit_per_5_minutes == 12000
    error_message = "A hand-set stage rate must size payments_api and WAF, not only the stage."
  }

  # --- the acquirer callers run in the acquirer tier, the other steps stay in the data subnets
  # (the two security groups are named at plan below; subnet ids are known only after apply)
  override_resource {
    target          = module.network.aws_security_group.acquirer
    override_during = plan
    values          = { id = "sg-acquirer" }
  }
  override_resource {
    target          = module.network.aws_security_group.lambda
    override_during = plan
    values          = { id = "sg-data" }
  }

  assert {
    condition = (
      length(module.network.acquirer_subnet_ids) == 2 &&
      length(module.payment_workflow.step_vpc_config.process_payment.subnet_ids) == 2 &&
      jsonencode({ for name, config in module.payment_workflow.step_vpc_config : name => config.security_group_ids }) == jsonencode({
        assess_risk     = ["sg-data"]
        process_payment = ["sg-acquirer"]
        reconcile       = ["sg-acquirer"]
        settle          = ["sg-acquirer"]
      })
    )
    error_message = "With the http acquirer, process_payment, reconcile and settle must run in the acquirer tier of acquirer_egress, and only they."
  }
}

run "a_total_the_account_quota_cannot_hold_is_refused" {
  command = plan

  # A new account's 50: Lambda keeps 100 unreserved, so nothing can be reserved at all.
  variables {
    capacity = { requests_per_second = 5, lambda_concurrency_quota = 50 }
  }

  expect_failures = [output.capacity]
}

run "backups_cover_the_vault_its_keys_and_the_ledger_in_a_locked_vault" {
  command = plan

  # Known ARNs for the tables and keys the assertions compare (a mocked plan leaves them unknown).
  override_resource {
    target          = module.vault.aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/payments-dev-vault" }
  }
  override_resource {
    target          = module.vault.aws_dynamodb_table.keys
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/payments-dev-vault-keys" }
  }
  override_resource {
    target          = module.payment_workflow.aws_dynamodb_table.ledger
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/payments-dev-ledger" }
  }

  variables {
    backup = { enabled = true, vault_lock_changeable_for_days = 3 }
  }

  assert {
    condition     = length(module.backup) == 1 && toset(module.backup[0].protected_table_arns) == toset([module.vault.table_arn, module.vault.key_table_arn, module.payment_workflow.ledger_table_arn])
    error_message = "The backups must cover the vault's records, its per-tenant keys and the ledger."
  }

  assert {
    # Its own key: the kms module makes one more, for backups, beside the tables' keys.
    condition     = contains(keys(module.kms.keys), "backup")
    error_message = "The backup vault must have a key of its own, apart from the tables' keys."
  }
}

