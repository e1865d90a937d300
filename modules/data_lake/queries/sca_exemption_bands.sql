-- SCA exemption usage and the fraud rate per amount band (PSD2 RTS Art. 18-19) over the payments authorized with event_date between ? and ? (yyyy-MM-dd, inclusive: give the 90 days of Art. 19(2)).
-- One row per Annex band (amount_eur_minor up to EUR 100, 250, 500; above; no EUR amount) and SCA outcome (the exemption applied, sca, out_of_scope, or unknown for events before the outcome was published). An authorized payment is counted once by its event_id.
-- Fraud label: the payment's card was named by a fraud.alert (subject_type card) whose window (first_seen to last_seen) covers the authorization, as fraud_alert_rate counts it. It stands in for the fraud chargebacks and issuer reports that Art. 19 counts and the lake does not yet hold; the TRA decision itself stays with the daily fraud-rate monitoring over the ledger (functions/domain/fraud_rate.py).
-- Rates are by value in EUR minor units (Art. 19(2)), in percent. band_fraud_rate_percent counts every payment up to the band's limit whatever its SCA outcome, overall_fraud_rate_percent every payment with a EUR amount; tra_band_within_reference holds when both are at or below the band's reference rate, compared exactly.
WITH authorized AS (
  SELECT event_id, platform_card_key, occurred_at, amount_eur_minor, sca_required, sca_exemption
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY occurred_at) AS copy
    FROM payment_events
    WHERE event_type = 'payment.authorized' AND event_date BETWEEN ? AND ?
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
  SELECT DISTINCT authorized.event_id
  FROM authorized
  JOIN card_alerts
    ON authorized.platform_card_key = card_alerts.platform_card_key
    AND authorized.occurred_at BETWEEN card_alerts.first_seen AND card_alerts.last_seen
),
labelled AS (
  SELECT
    CASE
      WHEN authorized.amount_eur_minor IS NULL THEN 5
      WHEN authorized.amount_eur_minor <= 10000 THEN 1
      WHEN authorized.amount_eur_minor <= 25000 THEN 2
      WHEN authorized.amount_eur_minor <= 50000 THEN 3
      ELSE 4
    END AS band,
    CASE
      WHEN authorized.sca_exemption IS NOT NULL THEN authorized.sca_exemption
      WHEN authorized.sca_required THEN 'sca'
      WHEN NOT authorized.sca_required THEN 'out_of_scope'
      ELSE 'unknown'
    END AS sca_outcome,
    COALESCE(authorized.amount_eur_minor, 0) AS value_eur_minor,
    CASE WHEN alerted.event_id IS NULL THEN 0 ELSE 1 END AS fraud
  FROM authorized
  LEFT JOIN alerted ON authorized.event_id = alerted.event_id
),
cells AS (
  SELECT
    band,
    sca_outcome,
    CAST(COUNT(*) AS BIGINT) AS payments,
    CAST(SUM(value_eur_minor) AS BIGINT) AS value_eur_minor,
    CAST(SUM(fraud) AS BIGINT) AS fraud_payments,
    CAST(SUM(fraud * value_eur_minor) AS BIGINT) AS fraud_value_eur_minor
  FROM labelled
  GROUP BY band, sca_outcome
),
bands AS (
  SELECT
    band,
    SUM(SUM(value_eur_minor)) OVER (ORDER BY band ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS value_up_to_limit,
    SUM(SUM(fraud_value_eur_minor)) OVER (ORDER BY band ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS fraud_up_to_limit,
    SUM(SUM(value_eur_minor)) OVER () AS value_overall,
    SUM(SUM(fraud_value_eur_minor)) OVER () AS fraud_overall
  FROM cells
  WHERE band < 5
  GROUP BY band
),
annex AS (
  SELECT band, amount_band, band_limit_eur_minor, reference_rate_percent
  FROM (
    VALUES
      (1, 'up_to_100_eur', 10000, 0.13),
      (2, '100_to_250_eur', 25000, 0.06),
      (3, '250_to_500_eur', 50000, 0.01),
      (4, 'above_500_eur', CAST(NULL AS BIGINT), CAST(NULL AS DECIMAL(4, 2))),
      (5, 'no_eur_amount', CAST(NULL AS BIGINT), CAST(NULL AS DECIMAL(4, 2)))
  ) AS t (band, amount_band, band_limit_eur_minor, reference_rate_percent)
)
SELECT
  annex.amount_band,
  annex.band_limit_eur_minor,
  cells.sca_outcome,
  cells.payments,
  cells.value_eur_minor,
  cells.fraud_payments,
  cells.fraud_value_eur_minor,
  ROUND(CAST(cells.fraud_value_eur_minor AS DOUBLE) * 100 / NULLIF(cells.value_eur_minor, 0), 4) AS fraud_rate_percent,
  CAST(annex.reference_rate_percent AS DOUBLE) AS reference_rate_percent,
  CASE
    WHEN annex.band_limit_eur_minor IS NOT NULL
      THEN ROUND(CAST(bands.fraud_up_to_limit AS DOUBLE) * 100 / NULLIF(bands.value_up_to_limit, 0), 4)
  END AS band_fraud_rate_percent,
  ROUND(CAST(bands.fraud_overall AS DOUBLE) * 100 / NULLIF(bands.value_overall, 0), 4) AS overall_fraud_rate_percent,
  CASE
    WHEN annex.reference_rate_percent IS NULL OR bands.value_up_to_limit = 0 THEN FALSE
    ELSE bands.fraud_up_to_limit * 100 <= annex.reference_rate_percent * bands.value_up_to_limit
      AND bands.fraud_overall * 100 <= annex.reference_rate_percent * bands.value_overall
  END AS tra_band_within_reference
FROM cells
JOIN annex ON cells.band = annex.band
LEFT JOIN bands ON cells.band = bands.band
ORDER BY cells.band, cells.sca_outcome
