module "platform" {
  source = "../../modules/platform"

  name_prefix            = "payments-local"
  environment            = "local"
  key_administrator_arns = [aws_iam_role.key_admin.arn]
  # Only this role may turn a token back into a card number.
  detokenize_allowed_principals = [aws_iam_role.detokenizer.arn]
  lambda_package                = var.lambda_package
  # The emulator's workers run this machine's Python; the package is built for it.
  lambda_runtime = "python3.11"
  # The demo shows the TRA exemption: a stated rate, not a measured one (local only), and a stated
  # monitored state below.
  sca_tra_fraud_rate_percent = "0.13"
  # Throwaway environment: every `make up` starts from an empty emulator.
  deletion_protection = false
  audit_force_destroy = true
  # Per-merchant rate limits: standard well above what make load and make chaos send from one
  # merchant, and a tiny tier for the end-to-end test's throttled merchant
  # (tests/e2e/test_merchant_edge.py: one request a second, two at once).
  merchant_usage_plans = {
    standard = { rate_limit = 500, burst_limit = 1000 }
    e2e_tiny = { rate_limit = 1, burst_limit = 2 }
  }
  data_lake = {
    force_destroy = true
  }
  # The account's detective controls (modules/security_baseline) are not applied here yet: the
  # module's apply on the emulator (local/gaps_security.py) is still to be proven, so this
  # throwaway environment opts out of each service, explicitly, and the compliance scan reports
  # the opt-outs (compliance/exceptions.yaml). dev, staging and prod keep every service on.
  security_baseline = {
    guardduty    = { enabled = false }
    security_hub = { enabled = false }
    config       = { enabled = false }
    inspector    = { enabled = false }
    # moto has no IAM Access Analyzer API at all
    access_analyzer = { enabled = false }
  }
  # The demo and the test suite pay with six test cards from one device and one IP, card 4242
  # many times a minute, on one emulator for the whole run: under the defaults the stream would
  # block that device, IP and card. Locally only card testing on a device raises an alert (above
  # the six shared cards), and the model never blocks a card (it records its score: shadow).
  fraud_alerting = {
    cards_per_device_1h   = 8
    cards_per_ip_1h       = 100000
    attempts_per_card_10m = 100000
    cards_per_bin_10m     = 100000
    model_block_score     = 101
    block_ttl_seconds     = 3600
  }
  # The test receiver (local/webhook_receiver.py) listens on plain http on 127.0.0.1: this
  # environment alone opts out of the https and public-host rules (modules/webhooks refuses the
  # opt-outs anywhere else). Retries start 2 s apart, not 30, so a test sees one within seconds.
  webhooks = {
    endpoint_policy = { allow_http = true, allow_private_addresses = true }
    retry           = { base_delay_seconds = 2 }
  }
}

# The SCA step offers TRA only in a band the settle run's stored fraud-rate measurement offers,
# and none without one (docs/sca-policy.md, RTS Art. 18-21: fail closed). A fresh emulator has
# no measurement, so for the demo this item states one: every band offered, dated at the apply
# (a state older than 48 hours offers nothing). Local only; the next settle run replaces it with
# what it measures from the ledger. Created once per `make up`, never updated by a later plan.
resource "aws_dynamodb_table_item" "stated_tra_monitoring" {
  table_name = module.platform.payments_table_name
  hash_key   = "payment_id"
  item = jsonencode({
    payment_id = { S = "tra-monitoring#remote_card" }
    state = { S = jsonencode({
      measured_at = timestamp()
      report      = { stated = "local environment: not measured" }
      bands = [
        for limit in [10000, 25000, 50000] :
        { limit_eur_minor = limit, offered = true, stopped_on = null, within_since = null }
      ]
    }) }
  })

  lifecycle {
    ignore_changes = [item]
  }
}
