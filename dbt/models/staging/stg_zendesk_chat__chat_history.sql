-- One row per event of a chat's history (the latest sync of the chat), typed. `nick` and other
-- fields a sync may not have carried read as NULL when their column is absent.
{%- set rel = source('zendesk_chat', 'chat_history') %}
{%- set c = zc_columns(rel) %}
select
  {{ zc_col(c, 'chat_id', 'text') }},
  {{ zc_col(c, 'position', 'int') }},
  {{ zc_col(c, 'type', 'text', 'event_type') }},
  {{ zc_col(c, 'timestamp', 'ts', 'occurred_at') }},
  {{ zc_col(c, 'sender_type', 'text') }},
  {{ zc_col(c, 'nick', 'text') }},
  {{ zc_col(c, 'name', 'text', 'sender_name') }},
  {{ zc_col(c, 'agent_id', 'int') }},
  {{ zc_col(c, 'department_id', 'int') }},
  {{ zc_col(c, 'new_rating', 'text') }}
from {{ zc_latest(rel, c, ['chat_id', 'position'], 'update_timestamp') }} history
