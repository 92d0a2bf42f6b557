-- KPI: chats handled per agent, with the agent's own first response time.
--
-- Definition: a chat counts for every agent who took part in it. The chat carries its agents as an
-- array (`agent_ids`, `agent_names`); the same list, one row per agent and chat, is the
-- `chat_engagements` table (each element of the chat's `engagements`), which this query uses
-- because it needs no array functions and carries per-agent figures. `avg_first_response_s` is
-- the average of the engagement's `response_time.first` (seconds from a visitor message to that
-- agent's first answer), over the engagements that have one. The name comes from `agents`
-- (`display_name`), else from the engagement. Deleted chats are left out. A chat transferred
-- between agents counts for each of them, so the counts add up to more than the chats.
-- Portable SQL (DuckDB, PostgreSQL); rows deduplicated on their primary keys (`id`;
-- `chat_id`, `position`), keeping the latest `update_timestamp`; ids compared as text.
WITH chat AS (
  SELECT * FROM (
    SELECT c.*, ROW_NUMBER() OVER (
      PARTITION BY c.id ORDER BY c.update_timestamp DESC, c._airbyte_extracted_at DESC) AS rn
    FROM chats c
  ) ranked
  WHERE rn = 1
    AND COALESCE(LOWER(CAST(deleted AS VARCHAR)), 'false') NOT IN ('true', 't', '1', '1.0')
),
engagement AS (
  SELECT * FROM (
    SELECT e.*, ROW_NUMBER() OVER (
      PARTITION BY e.chat_id, e."position"
      ORDER BY e.update_timestamp DESC, e._airbyte_extracted_at DESC) AS rn
    FROM chat_engagements e
  ) ranked
  WHERE rn = 1
),
agent AS (
  SELECT CAST(id AS VARCHAR) AS agent_id, MAX(display_name) AS display_name
  FROM agents
  GROUP BY CAST(id AS VARCHAR)
)
SELECT
  CAST(e.agent_id AS VARCHAR) AS agent_id,
  COALESCE(MAX(a.display_name), MAX(e.agent_name)) AS agent_name,
  COUNT(DISTINCT e.chat_id) AS chats,
  AVG(CAST(CAST(e.response_time AS JSON) ->> 'first' AS DOUBLE PRECISION)) AS avg_first_response_s
FROM engagement e
JOIN chat c ON c.id = e.chat_id
LEFT JOIN agent a ON a.agent_id = CAST(e.agent_id AS VARCHAR)
GROUP BY CAST(e.agent_id AS VARCHAR)
ORDER BY chats DESC, agent_id;
