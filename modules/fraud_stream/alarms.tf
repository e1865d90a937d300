# The alert rate: the consumer logs one WARNING line per fraud.alert it raises
# (`fraud_alert = "raised"`, with typology and subject type, never the subject), counted by a
# metric filter. Many alerts at once is an attack in progress, or thresholds set too tight.

resource "aws_cloudwatch_log_metric_filter" "alerts" {
  name           = "${var.name_prefix}-fraud-alerts"
  log_group_name = module.consumer.log_group_name
  pattern        = "{ $.fraud_alert = \"raised\" }"

  metric_transformation {
    name          = local.alert_metric_name
    namespace     = local.metric_namespace
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "alert_rate" {
  alarm_name          = "${var.name_prefix}-fraud-alert-rate"
  alarm_description   = "More than ${var.alert_rate_alarm_threshold} fraud.alert events in 5 minutes: an attack in progress (read the alerts on the payment bus) or alerting thresholds too tight."
  namespace           = local.metric_namespace
  metric_name         = aws_cloudwatch_log_metric_filter.alerts.metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alert_rate_alarm_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
  ok_actions          = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

  tags = local.tags
}
