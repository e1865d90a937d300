-- Approval rate and decline reasons by card country: one row per issuing country and outcome (approved, or the decline code).
-- An attempt is a payment.authorized or payment.declined event, counted once by its event_id.
WITH attempts AS (
  SELECT card_country, event_type, decline_code
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY occurred_at) AS copy
    FROM payment_events
    WHERE event_type IN ('payment.authorized', 'payment.declined')
  ) AS delivered
  WHERE copy = 1
),
outcomes AS (
  SELECT
    COALESCE(card_country, 'unknown') AS card_country,
    CASE WHEN event_type = 'payment.authorized' THEN 'approved' ELSE COALESCE(decline_code, 'unknown') END AS outcome,
    COUNT(*) AS attempts
  FROM attempts
  GROUP BY 1, 2
)
SELECT
  card_country,
  outcome,
  attempts,
  SUM(attempts) OVER (PARTITION BY card_country) AS country_attempts,
  ROUND(CAST(attempts AS DOUBLE) / SUM(attempts) OVER (PARTITION BY card_country), 4) AS share,
  ROUND(
    CAST(SUM(CASE WHEN outcome = 'approved' THEN attempts ELSE 0 END) OVER (PARTITION BY card_country) AS DOUBLE)
    / SUM(attempts) OVER (PARTITION BY card_country),
    4
  ) AS approval_rate
FROM outcomes
ORDER BY card_country, outcome
