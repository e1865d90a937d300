-- Payments versus ledger, the lake's side: each payment's captured and refunded amounts from its events with event_date between ? and ? (yyyy-MM-dd, inclusive), and whether they add up to the totals its last event reports. A cross-check for an analyst at volume; the scheduled reconciliation reads the same window from the tables by index (docs/ledger.md).
WITH events AS (
  SELECT payment_id, merchant_id, currency, event_type, operation_amount, amount_captured, amount_refunded
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY occurred_at) AS copy
    FROM payment_events
    WHERE event_date BETWEEN ? AND ?
  ) AS delivered
  WHERE copy = 1
)
SELECT
  payment_id,
  merchant_id,
  currency,
  SUM(CASE WHEN event_type = 'payment.captured' THEN operation_amount ELSE 0 END) AS captured_minor,
  SUM(CASE WHEN event_type = 'payment.refunded' THEN operation_amount ELSE 0 END) AS refunded_minor,
  SUM(CASE WHEN event_type = 'payment.captured' THEN operation_amount WHEN event_type = 'payment.refunded' THEN -operation_amount ELSE 0 END) AS balance_minor,
  MAX(amount_captured) AS reported_captured_minor,
  MAX(amount_refunded) AS reported_refunded_minor,
  (
    SUM(CASE WHEN event_type = 'payment.captured' THEN operation_amount ELSE 0 END) = MAX(amount_captured)
    AND SUM(CASE WHEN event_type = 'payment.refunded' THEN operation_amount ELSE 0 END) = MAX(amount_refunded)
  ) AS events_complete
FROM events
GROUP BY payment_id, merchant_id, currency
ORDER BY payment_id
