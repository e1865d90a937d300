# Vault log lines that are security events: each is counted by a metric filter
# (Payments/Vault/<name>) and alarms on its first occurrence, to alarm_sns_topic_arn.
#
# - detokenize_refused: a denied or failed detokenize in the audit log group (a caller probing
#   for card data, a tampered record).
# - tokenize_rate_limited: the tokenize rate limit per merchant and card class (finding 5;
#   functions/domain/vault/limits.py, var.tokenize_class_limit) closed a class. The tokenize
#   function writes one WARNING line, {"message": "tokenize rate limited", "tenant_id", ...}
#   (functions/handlers/tokenize.py RATE_LIMITED_MESSAGE), naming the merchant and the limit,
#   never the card or its class. A closed class is card testing until shown otherwise.

locals {
  security_signals = {
    detokenize_refused = {
      log_group_name = aws_cloudwatch_log_group.audit.name
      pattern        = "{ ($.action = \"detokenize\") && ($.outcome != \"success\") }"
      metric_name    = "DetokenizeRefused"
      description    = "${var.name}: a detokenize call was denied or failed (see the vault audit log group)."
    }
    tokenize_rate_limited = {
      log_group_name = module.tokenize.log_group_name
      pattern        = "{ $.message = \"tokenize rate limited\" }"
      metric_name    = "TokenizeRateLimited"
      description    = "${var.name}: a merchant reached the tokenize limit of ${var.tokenize_class_limit.max_new_cards} new cards of one card class (first six, last four) in ${var.tokenize_class_limit.window_seconds} s: possible card testing through tokenize. The tokenize function's log group names the merchant (tenant_id)."
    }
  }
}

resource "aws_cloudwatch_log_metric_filter" "signal" {
  for_each = local.security_signals

  name           = "${var.name}-vault-${replace(each.key, "_", "-")}"
  log_group_name = each.value.log_group_name
  pattern        = each.value.pattern

  metric_transformation {
    name          = each.value.metric_name
    namespace     = "Payments/Vault/${var.name}"
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "signal" {
  for_each = local.security_signals

  alarm_name          = "${var.name}-vault-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = "Payments/Vault/${var.name}"
  metric_name         = each.value.metric_name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags

  depends_on = [aws_cloudwatch_log_metric_filter.signal]
}

moved {
  from = aws_cloudwatch_log_metric_filter.detokenize_refused
  to   = aws_cloudwatch_log_metric_filter.signal["detokenize_refused"]
}

moved {
  from = aws_cloudwatch_metric_alarm.detokenize_refused
  to   = aws_cloudwatch_metric_alarm.signal["detokenize_refused"]
}
