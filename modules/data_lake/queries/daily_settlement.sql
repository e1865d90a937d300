-- Daily settlement by merchant and currency: captured minus refunded (minor units) per event date.
-- Firehose delivers at least once: each event counts once, by its deterministic event_id.
WITH events AS (
  SELECT event_date, event_type, merchant_id, currency, payment_id, operation_amount
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY occurred_at) AS copy
    FROM payment_events
    WHERE event_type IN ('payment.captured', 'payment.refunded')
  ) AS delivered
  WHERE copy = 1
)
SELECT
  event_date,
  merchant_id,
  currency,
  COUNT(DISTINCT CASE WHEN event_type = 'payment.captured' THEN payment_id END) AS captured_payments,
  SUM(CASE WHEN event_type = 'payment.captured' THEN operation_amount ELSE 0 END) AS captured_minor,
  SUM(CASE WHEN event_type = 'payment.refunded' THEN operation_amount ELSE 0 END) AS refunded_minor,
  SUM(CASE WHEN event_type = 'payment.captured' THEN operation_amount ELSE -operation_amount END) AS net_minor
FROM events
GROUP BY event_date, merchant_id, currency
ORDER BY event_date, merchant_id, currency
