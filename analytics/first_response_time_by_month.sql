-- KPI: first response time per month (UTC), with the month's chat volume.
--
-- Definition: as in first_response_time.sql (Zendesk's `response_time.first`, whole seconds, live
-- chats not deleted). A chat belongs to the month of its start (`timestamp`). `chats` counts
-- every live chat of the month, `answered` those an agent answered, and the average is over the
-- answered ones. Months are taken in the session's time zone: run `SET TIME ZONE 'UTC'` first
-- on PostgreSQL (DuckDB stores these timestamps without a zone, in UTC).
-- Portable SQL (DuckDB, PostgreSQL); rows deduplicated on `id` as in first_response_time.sql.
WITH chat AS (
  SELECT * FROM (
    SELECT c.*, ROW_NUMBER() OVER (
      PARTITION BY c.id ORDER BY c.update_timestamp DESC, c._airbyte_extracted_at DESC) AS rn
    FROM chats c
  ) ranked
  WHERE rn = 1
),
live AS (
  SELECT
    CAST(DATE_TRUNC('month', "timestamp") AS DATE) AS month,
    CAST(CAST(response_time AS JSON) ->> 'first' AS DOUBLE PRECISION) AS first_s
  FROM chat
  WHERE "type" = 'chat'
    AND COALESCE(LOWER(CAST(deleted AS VARCHAR)), 'false') NOT IN ('true', 't', '1', '1.0')
)
SELECT
  month,
  COUNT(*) AS chats,
  COUNT(first_s) AS answered,
  AVG(first_s) AS avg_first_response_s
FROM live
GROUP BY month
ORDER BY month;
