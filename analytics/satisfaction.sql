-- KPI: satisfaction: good vs bad ratings.
--
-- Definition: the chat's `rating` ('good' or 'bad'; null when the visitor did not rate), which is
-- the visitor's last rating (a visitor can change it during the chat: every change is a
-- `chat.rating` row in `chat_history`). Counted over live chats, not deleted, that an agent
-- answered (`missed` false): only those can be rated. `satisfaction_pct` is Zendesk's
-- satisfaction score: good / (good + bad) * 100, unrated chats left out; `rated_pct` is the share
-- of answered chats that were rated. Per agent, `chat_engagements.rating` carries the rating on
-- the engagement of the last agent in the chat.
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
    AND COALESCE(LOWER(CAST(missed AS VARCHAR)), 'false') NOT IN ('true', 't', '1', '1.0')
),
counts AS (
  SELECT
    COUNT(*) AS answered_chats,
    SUM(CASE WHEN rating = 'good' THEN 1 ELSE 0 END) AS good,
    SUM(CASE WHEN rating = 'bad' THEN 1 ELSE 0 END) AS bad
  FROM chat
)
SELECT
  answered_chats,
  good,
  bad,
  answered_chats - good - bad AS unrated,
  100.0 * good / NULLIF(good + bad, 0) AS satisfaction_pct,
  100.0 * (good + bad) / NULLIF(answered_chats, 0) AS rated_pct
FROM counts;
