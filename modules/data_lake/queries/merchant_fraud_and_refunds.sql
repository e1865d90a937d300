-- Fraud-decline rate and refund ratio by merchant: attempts the risk step blocked (fraud_suspected) per attempt, refunded per captured amount.
-- Counted once per event_id. This counts the attempts the risk step blocked; fraud_alert_rate counts those the fraud stream's alerts named.
WITH events AS (
  SELECT merchant_id, event_type, decline_code, operation_amount
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY occurred_at) AS copy
    FROM payment_events
  ) AS delivered
  WHERE copy = 1
)
SELECT
  merchant_id,
  SUM(CASE WHEN event_type IN ('payment.authorized', 'payment.declined') THEN 1 ELSE 0 END) AS attempts,
  SUM(CASE WHEN decline_code = 'fraud_suspected' THEN 1 ELSE 0 END) AS fraud_declines,
  ROUND(
    CAST(SUM(CASE WHEN decline_code = 'fraud_suspected' THEN 1 ELSE 0 END) AS DOUBLE)
    / NULLIF(SUM(CASE WHEN event_type IN ('payment.authorized', 'payment.declined') THEN 1 ELSE 0 END), 0),
    4
  ) AS fraud_decline_rate,
  SUM(CASE WHEN event_type = 'payment.captured' THEN operation_amount ELSE 0 END) AS captured_minor,
  SUM(CASE WHEN event_type = 'payment.refunded' THEN operation_amount ELSE 0 END) AS refunded_minor,
  ROUND(
    CAST(SUM(CASE WHEN event_type = 'payment.refunded' THEN operation_amount ELSE 0 END) AS DOUBLE)
    / NULLIF(SUM(CASE WHEN event_type = 'payment.captured' THEN operation_amount ELSE 0 END), 0),
    4
  ) AS refund_ratio
FROM events
GROUP BY merchant_id
ORDER BY merchant_id
