-- KPI: missed vs answered chats, and open (unread) vs handled (read) offline messages.
--
-- Definition: a live chat (`type` = 'chat') is missed when no agent took part (`missed` true),
-- answered otherwise. Offline messages (`type` = 'offline_msg', left while no agent was online)
-- are counted apart: Zendesk Chat has no open/resolved status of its own, and the nearest is the
-- offline message's `unread` flag (unread = still open, read = seen by an agent). Whether a
-- conversation was resolved lives in Zendesk Support (the `zendesk_ticket_id` a chat may carry),
-- not in Chat. Deleted chats are left out. `pct` is the share within the kind.
-- Portable SQL (DuckDB, PostgreSQL); rows deduplicated on `id` (latest `update_timestamp`).
WITH chat AS (
  SELECT * FROM (
    SELECT c.*, ROW_NUMBER() OVER (
      PARTITION BY c.id ORDER BY c.update_timestamp DESC, c._airbyte_extracted_at DESC) AS rn
    FROM chats c
  ) ranked
  WHERE rn = 1
    AND COALESCE(LOWER(CAST(deleted AS VARCHAR)), 'false') NOT IN ('true', 't', '1', '1.0')
),
classified AS (
  SELECT
    "type" AS kind,
    CASE
      WHEN "type" = 'chat' AND COALESCE(LOWER(CAST(missed AS VARCHAR)), 'false') IN ('true', 't', '1', '1.0')
        THEN 'missed'
      WHEN "type" = 'chat' THEN 'answered'
      WHEN COALESCE(LOWER(CAST(unread AS VARCHAR)), 'false') IN ('true', 't', '1', '1.0') THEN 'unread'
      ELSE 'read'
    END AS status
  FROM chat
)
SELECT
  kind,
  status,
  COUNT(*) AS chats,
  100.0 * COUNT(*) / SUM(COUNT(*)) OVER (PARTITION BY kind) AS pct
FROM classified
GROUP BY kind, status
ORDER BY kind, status;
