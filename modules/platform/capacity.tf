# Capacity from a stated target (var.capacity): the API stage's throttle, the Lambda concurrency
# each function reserves and WAF's per-IP limit all follow from one figure, so that no layer
# admits traffic the next one cannot serve (README, "Environment profiles").
#
#   stage rate limit R (requests/s)    = ceil(requests_per_second x headroom), burst 2R
#   concurrency of a hot-path function = ceil(R x its share of requests x its p99 duration (s))
#   WAF limit per IP (per 5 minutes)   = 300 R
#
# By Little's law a function busy p99 seconds per request at R requests/s holds R x p99
# executions at once; headroom covers bursts and a slower tail than stated. payments_api is
# held for the whole synchronous workflow, so its p99 is the payment's. Sizing from R rather
# than from the target keeps the stage from admitting more than payments_api can hold, whether R
# is derived or set. WAF blocks one address only once it alone sends more than the whole stage
# admits for five minutes: a merchant's server behind one address is never blocked while the
# stage would still serve it (fairness between merchants is the usage plans' job).
#
# Functions off the request path reserve a fixed, small amount: rare by design (detokenize, the
# vault's admin, the credit decision API) or one at a time (reconcile, settle), or driven by
# the stream's shards (the fraud consumer) and Firehose (the lake transform).

locals {
  hot_path_p99_seconds = var.capacity.p99_seconds
  # BNPL checkouts are a share of the payments; every other hot-path function sees each request.
  hot_path_share = { for fn in keys(local.hot_path_p99_seconds) : fn => fn == "bnpl" ? var.capacity.bnpl_share : 1 }
  hot_path_concurrency = {
    for fn, p99 in local.hot_path_p99_seconds :
    fn => max(1, ceil(local.api_rate_limit_per_second * local.hot_path_share[fn] * p99))
  }

  fixed_concurrency = {
    detokenize     = 5
    vault_admin    = 1
    reconcile      = 1
    settle         = 1
    credit_api     = 10
    fraud_consumer = 4
    # modules/data_lake reserves 5 for its transform and takes no input for it.
    lake_transform = 5
  }

  reserved_concurrency = merge(local.hot_path_concurrency, local.fixed_concurrency)

  # Lambda refuses a reservation that leaves fewer than 100 executions unreserved.
  unreserved_minimum = 100

  api_rate_limit_per_second    = coalesce(var.api_rate_limit_per_second, ceil(var.capacity.requests_per_second * var.capacity.headroom))
  waf_rate_limit_per_5_minutes = coalesce(var.waf_rate_limit_per_5_minutes, max(100, local.api_rate_limit_per_second * 300))
}

output "capacity" {
  description = "What var.capacity sizes: each function's reserved concurrency, their total, the account quota it must fit, the stage's rate limit (requests/s; burst twice) and WAF's per-IP limit per five minutes."
  value = {
    reserved_concurrency         = local.reserved_concurrency
    reserved_concurrency_total   = sum(values(local.reserved_concurrency))
    lambda_concurrency_quota     = var.capacity.lambda_concurrency_quota
    api_rate_limit_per_second    = local.api_rate_limit_per_second
    waf_rate_limit_per_5_minutes = local.waf_rate_limit_per_5_minutes
  }

  precondition {
    condition     = sum(values(local.reserved_concurrency)) <= var.capacity.lambda_concurrency_quota - local.unreserved_minimum
    error_message = "The functions reserve ${sum(values(local.reserved_concurrency))} concurrent executions and Lambda keeps ${local.unreserved_minimum} unreserved, more than capacity.lambda_concurrency_quota (${var.capacity.lambda_concurrency_quota}) allows: ask for a quota of at least ${sum(values(local.reserved_concurrency)) + local.unreserved_minimum} (Service Quotas, AWS Lambda, Concurrent executions, L-B99A9384) and set it here, or lower capacity.requests_per_second."
  }
}
