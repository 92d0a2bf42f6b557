-- KPI: average waiting time: how long a visitor waits before an agent joins the chat.
--
-- Definition: from the visitor's first message to the first time an agent joins the chat
-- (`chat.memberjoin` by an agent), in seconds with microseconds, from the `chat_history` rows.
-- This is the queue time, not the response time: an agent may join and answer later (that is
-- first_response_time.sql). Counted over live chats, not deleted, where the visitor wrote
-- before any agent was present; chats an agent opened (proactive chats, `started_by` = 'agent')
-- and missed chats (no agent ever joined) are left out. An agent is recognised by
-- `sender_type` = 'Agent' or a `nick` starting with 'agent:' (Zendesk sends one or the other);
-- the visitor by 'Visitor' / 'visitor:'. Offline messages have no history.
-- Tables: `chats` and `chat_history` (one row per history event: `chat_id`, `position`, `type`,
-- `timestamp`, ...). Rows are deduplicated on their primary keys (`id`; `chat_id`, `position`),
-- keeping the latest `update_timestamp`.
-- Portable SQL (DuckDB, PostgreSQL).
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
history AS (
  SELECT * FROM (
    SELECT h.*, ROW_NUMBER() OVER (
      PARTITION BY h.chat_id, h."position"
      ORDER BY h.update_timestamp DESC, h._airbyte_extracted_at DESC) AS rn
    FROM chat_history h
  ) ranked
  WHERE rn = 1
),
first_visitor_message AS (
  SELECT chat_id, MIN("timestamp") AS at
  FROM history
  WHERE "type" = 'chat.msg' AND (sender_type = 'Visitor' OR nick LIKE 'visitor:%')
  GROUP BY chat_id
),
first_agent_join AS (
  SELECT chat_id, MIN("timestamp") AS at
  FROM history
  WHERE "type" = 'chat.memberjoin' AND (sender_type = 'Agent' OR nick LIKE 'agent:%')
  GROUP BY chat_id
),
waits AS (
  SELECT EXTRACT(EPOCH FROM (j.at - v.at)) AS wait_s
  FROM chat c
  JOIN first_visitor_message v ON v.chat_id = c.id
  JOIN first_agent_join j ON j.chat_id = c.id
  WHERE j.at >= v.at
)
SELECT
  COUNT(*) AS chats,
  AVG(wait_s) AS avg_wait_s,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY wait_s) AS median_wait_s,
  MAX(wait_s) AS max_wait_s
FROM waits;
