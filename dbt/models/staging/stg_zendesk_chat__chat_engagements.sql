-- One row per agent engagement in a chat (the latest sync of the chat): the agent's own response
-- times, message counts and the rating when the agent was the last in the chat.
{%- set rel = source('zendesk_chat', 'chat_engagements') %}
{%- set c = zc_columns(rel) %}
select
  {{ zc_col(c, 'chat_id', 'text') }},
  {{ zc_col(c, 'position', 'int') }},
  {{ zc_col(c, 'id', 'text', 'engagement_id') }},
  {{ zc_col(c, 'agent_id', 'int') }},
  {{ zc_col(c, 'agent_name', 'text') }},
  {{ zc_col(c, 'department_id', 'int') }},
  {{ zc_col(c, 'started_by', 'text') }},
  {{ zc_col(c, 'accepted', 'bool', 'is_accepted') }},
  {{ zc_col(c, 'rating', 'text') }},
  {{ zc_col(c, 'timestamp', 'ts', 'started_at') }},
  {{ zc_col(c, 'duration', 'float', 'duration_s') }},
  {{ zc_json_col(c, 'response_time', 'first', 'float', 'first_response_s') }},
  {{ zc_json_col(c, 'response_time', 'avg', 'float', 'avg_response_s') }},
  {{ zc_json_col(c, 'response_time', 'max', 'float', 'max_response_s') }},
  {{ zc_json_col(c, 'count', 'agent', 'int', 'messages_agent') }}
from {{ zc_latest(rel, c, ['chat_id', 'position'], 'update_timestamp') }} engagements
