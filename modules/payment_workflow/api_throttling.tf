# Per-merchant rate limits (ADR 0008): one usage plan per merchant tier on the v1 stage. API
# Gateway throttles each API key by its plan (token bucket: rate_limit per second, burst_limit
# at once) and counts its quota; the merchant authorizer names the key (usageIdentifierKey, the
# merchant's API key from the registry), so one merchant's burst answers that merchant 429
# THROTTLED and leaves the others alone. Keys are the registry's, made at onboarding: no apply
# per merchant. Usage plans and API keys cost nothing on AWS beyond the requests.

resource "aws_api_gateway_usage_plan" "merchant" {
  for_each = var.merchant_usage_plans

  name        = "${var.name_prefix}-merchants-${each.key}"
  description = "Payment API rate limits of merchants of tier ${each.key}"

  api_stages {
    api_id = aws_api_gateway_rest_api.this.id
    stage  = aws_api_gateway_stage.v1.stage_name
  }

  throttle_settings {
    rate_limit  = each.value.rate_limit
    burst_limit = each.value.burst_limit
  }

  dynamic "quota_settings" {
    for_each = each.value.quota == null ? [] : [each.value.quota]

    content {
      limit  = quota_settings.value.limit
      period = quota_settings.value.period
    }
  }

  tags = merge(var.tags, { MerchantTier = each.key })
}
