-- One row per chat or offline message: the latest version of each (by update_timestamp, then
-- extraction time), deleted ones kept and flagged, nested objects flattened into typed columns.
{%- set rel = source('zendesk_chat', 'chats') %}
{%- set c = zc_columns(rel) %}
select
  {{ zc_col(c, 'id', 'text', 'chat_id') }},
  {{ zc_col(c, 'type', 'text', 'chat_type') }},
  {{ zc_col(c, 'timestamp', 'ts', 'started_at') }},
  {{ zc_col(c, 'end_timestamp', 'ts', 'ended_at') }},
  {{ zc_col(c, 'update_timestamp', 'ts', 'updated_at') }},
  {{ zc_col(c, 'started_by', 'text') }},
  {{ zc_col(c, 'duration', 'float', 'duration_s') }},
  {{ zc_col(c, 'missed', 'bool', 'is_missed') }},
  {{ zc_col(c, 'unread', 'bool', 'is_unread') }},
  {{ zc_col(c, 'deleted', 'bool', 'is_deleted') }},
  {{ zc_col(c, 'triggered', 'bool', 'is_triggered') }},
  {{ zc_col(c, 'rating', 'text') }},
  {{ zc_col(c, 'comment', 'text') }},
  {{ zc_col(c, 'department_id', 'int') }},
  {{ zc_col(c, 'department_name', 'text') }},
  {{ zc_col(c, 'zendesk_ticket_id', 'int') }},
  {{ zc_json_col(c, 'response_time', 'first', 'float', 'first_response_s') }},
  {{ zc_json_col(c, 'response_time', 'avg', 'float', 'avg_response_s') }},
  {{ zc_json_col(c, 'response_time', 'max', 'float', 'max_response_s') }},
  {{ zc_json_col(c, 'count', 'total', 'int', 'messages_total') }},
  {{ zc_json_col(c, 'count', 'agent', 'int', 'messages_agent') }},
  {{ zc_json_col(c, 'count', 'visitor', 'int', 'messages_visitor') }},
  {{ zc_json_col(c, 'visitor', 'id', 'text', 'visitor_id') }},
  {{ zc_json_col(c, 'visitor', 'name', 'text', 'visitor_name') }},
  {{ zc_json_col(c, 'visitor', 'email', 'text', 'visitor_email') }},
  {{ zc_json_col(c, 'session', 'country_code', 'text', 'visitor_country_code') }},
  {{ zc_json_col(c, 'session', 'platform', 'text', 'visitor_platform') }},
  {{ zc_json_col(c, 'session', 'browser', 'text', 'visitor_browser') }}
from {{ zc_latest(rel, c, ['id'], 'update_timestamp') }} chats
