-- KPI: first response time: how long visitors wait for the first answer from an agent.
--
-- Definition: Zendesk's own `response_time.first` of each chat, in whole seconds, from the
-- visitor's first message to the first agent message after it. `response_time` is an object on
-- the chat ({"first", "avg", "max"}), read here as JSON. Counted over live chats (`type` = 'chat',
-- not offline messages) that are not deleted and that an agent answered; missed chats have no
-- response time and are left out (see missed_vs_answered.sql). Trigger (automated) messages do
-- not count as a response.
-- Tables: `chats` as an Airbyte destination or PyAirbyte cache creates it from the `chats`
-- stream. Rows are deduplicated on `id`, keeping the latest `update_timestamp`, so the query is
-- right on append-mode tables too (an updated chat is emitted again by the next sync).
-- Portable SQL: runs unchanged on DuckDB and PostgreSQL, with typed columns or text columns
-- (flags are compared as text, so BOOLEAN, 0/1 and the "1.0" text some loaders write all work).
WITH chat AS (
  SELECT * FROM (
    SELECT c.*, ROW_NUMBER() OVER (
      PARTITION BY c.id ORDER BY c.update_timestamp DESC, c._airbyte_extracted_at DESC) AS rn
    FROM chats c
  ) ranked
  WHERE rn = 1
),
answered AS (
  SELECT CAST(CAST(response_time AS JSON) ->> 'first' AS DOUBLE PRECISION) AS first_s
  FROM chat
  WHERE "type" = 'chat'
    AND COALESCE(LOWER(CAST(deleted AS VARCHAR)), 'false') NOT IN ('true', 't', '1', '1.0')
)
SELECT
  COUNT(*) AS chats,
  AVG(first_s) AS avg_first_response_s,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY first_s) AS median_first_response_s,
  MAX(first_s) AS max_first_response_s
FROM answered
WHERE first_s IS NOT NULL;
