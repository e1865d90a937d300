# The payment hot path: the Payment API, the EXPRESS workflow and its step functions, the
# payments / idempotency / ledger tables and the payment event bus. README.md has the picture.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # Tokens, brands, last four digits, amounts and ledger entries: never a card number.
  table_tags = merge(var.tags, { DataClass = "payment-metadata" })

  event_source    = "blueprint.payments"
  event_bus_name  = "${var.name_prefix}-payments"
  event_log_group = "/aws/events/${var.name_prefix}-payment-events"

  # fraud_rules is flat (map(number)); FraudRules.from_json wants weights nested.
  fraud_rules_json = length(var.fraud_rules) == 0 ? "" : jsonencode(merge(
    { for k, v in var.fraud_rules : k => v if !startswith(k, "weights.") },
    length([for k in keys(var.fraud_rules) : k if startswith(k, "weights.")]) == 0 ? {} : {
      weights = { for k, v in var.fraud_rules : trimprefix(k, "weights.") => v if startswith(k, "weights.") }
    },
  ))

  eur_rates_json               = jsonencode(var.eur_rates)
  ip_country_ranges_json       = length(var.ip_country_ranges) == 0 ? "" : jsonencode(var.ip_country_ranges)
  issuer_country_prefixes_json = length(var.issuer_country_prefixes) == 0 ? "" : jsonencode(var.issuer_country_prefixes)
  tra_fraud_rate_percent       = var.sca_tra_fraud_rate_percent == null ? "" : var.sca_tra_fraud_rate_percent
}
