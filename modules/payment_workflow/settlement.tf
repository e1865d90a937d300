# Settlement and payouts (docs/ledger.md): the settle function books the acquirer's settlement
# batches (cash against the receivable, its fees, chargebacks) and pays merchants their settled
# funds, once a day on the account's default bus (its schedule, beside reconcile's, is in
# events.tf; its settlement-waiting and TRA fraud-rate alarms are in alarms.tf). Each run also
# measures the TRA fraud rate (RTS Art. 19) into one payments-table item (docs/sca-policy.md). It is a function of its own, not a phase of
# reconcile: it runs daily where reconcile runs hourly, needs no access to payments, events or
# the bus, and reconcile needs no right to post payouts.

locals {
  merchant_service_charge_json = (
    length(var.merchant_service_charge.default) == 0 && length(var.merchant_service_charge.merchants) == 0
    ? ""
    : jsonencode(var.merchant_service_charge)
  )

  settle_environment = merge(local.common_env, {
    PAYMENTS_TABLE_NAME = aws_dynamodb_table.payments.name
    LEDGER_TABLE_NAME   = aws_dynamodb_table.ledger.name
    LEDGER_SHARDS       = tostring(var.ledger_shards)
    # The simulator is the settlement source on the emulator (its daily batch).
    ACQUIRER_CONNECTOR  = var.acquirer_connector
    ACQUIRER_TIMEOUT_MS = tostring(var.acquirer_timeout_ms)
    # The TRA fraud-rate monitoring weighs payments in EUR (docs/sca-policy.md).
    EUR_RATES = local.eur_rates_json
    # With the http connector, its settlement batches come from the acquirer's API.
  }, local.acquirer_http_environment)
}
