-- KPI: chat duration, for answered and for missed chats.
--
-- Definition: Zendesk's `duration` of the chat, in seconds, from its start (`timestamp`, the
-- first message) to its last message; the visitor may stay in the chat window longer
-- (`end_timestamp`). Counted over live chats, not deleted; offline messages have no duration. A
-- missed chat's duration is how long the visitor stayed without an answer.
-- Portable SQL (DuckDB, PostgreSQL); rows deduplicated on `id` (latest `update_timestamp`).
WITH chat AS (
  SELECT * FROM (
    SELECT c.*, ROW_NUMBER() OVER (
      PARTITION BY c.id ORDER BY c.update_timestamp DESC, c._airbyte_extracted_at DESC) AS rn
    FROM chats c
  ) ranked
  WHERE rn = 1
    AND "type" = 'chat'
    AND COALESCE(LOWER(CAST(deleted AS VARCHAR)), 'false') NOT IN ('true', 't', '1', '1.0')
),
durations AS (
  SELECT
    CASE WHEN COALESCE(LOWER(CAST(missed AS VARCHAR)), 'false') IN ('true', 't', '1', '1.0')
         THEN 'missed' ELSE 'answered' END AS outcome,
    CAST(duration AS DOUBLE PRECISION) AS duration_s
  FROM chat
  WHERE duration IS NOT NULL
)
SELECT
  outcome,
  COUNT(*) AS chats,
  AVG(duration_s) AS avg_duration_s,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY duration_s) AS median_duration_s,
  MAX(duration_s) AS max_duration_s
FROM durations
GROUP BY outcome
ORDER BY outcome;
