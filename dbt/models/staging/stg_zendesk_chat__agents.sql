-- One row per agent (the latest extraction of each id).
{%- set rel = source('zendesk_chat', 'agents') %}
{%- set c = zc_columns(rel) %}
select
  {{ zc_col(c, 'id', 'int', 'agent_id') }},
  {{ zc_col(c, 'display_name', 'text') }},
  {{ zc_col(c, 'first_name', 'text') }},
  {{ zc_col(c, 'last_name', 'text') }},
  {{ zc_col(c, 'email', 'text') }},
  {{ zc_col(c, 'enabled', 'bool', 'is_enabled') }},
  {{ zc_col(c, 'role_id', 'int') }},
  {{ zc_col(c, 'create_date', 'ts', 'created_at') }}
from {{ zc_latest(rel, c, ['id']) }} agents
