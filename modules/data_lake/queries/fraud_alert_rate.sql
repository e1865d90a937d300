-- Fraud-alert rate by merchant: the share of each merchant's authorization attempts made with a card that a fraud alert named while the alert's window ran (first_seen to last_seen).
-- Attempts count once by event_id; an alert delivered or repeated more than once counts once by alert_id, over its widest window.
WITH attempts AS (
  SELECT event_id, merchant_id, platform_card_key, occurred_at
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY occurred_at) AS copy
    FROM payment_events
    WHERE event_type IN ('payment.authorized', 'payment.declined')
  ) AS delivered
  WHERE copy = 1
),
card_alerts AS (
  SELECT alert_id, subject AS platform_card_key, MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen
  FROM fraud_alerts
  WHERE subject_type = 'card'
  GROUP BY alert_id, subject
),
alerted AS (
  SELECT DISTINCT attempts.event_id
  FROM attempts
  JOIN card_alerts
    ON attempts.platform_card_key = card_alerts.platform_card_key
    AND attempts.occurred_at BETWEEN card_alerts.first_seen AND card_alerts.last_seen
)
SELECT
  attempts.merchant_id,
  COUNT(*) AS attempts,
  COUNT(alerted.event_id) AS alerted_attempts,
  ROUND(CAST(COUNT(alerted.event_id) AS DOUBLE) / COUNT(*), 4) AS alert_rate
FROM attempts
LEFT JOIN alerted ON attempts.event_id = alerted.event_id
GROUP BY attempts.merchant_id
ORDER BY attempts.merchant_id
