-- The chat-agent bridge: one row per agent id in a chat's `agent_ids` (JSON array of strings on
-- the latest version of the chat), the id as an integer to join `agents.id`.
{%- set rel = source('zendesk_chat', 'chats') %}
{%- set c = zc_columns(rel) %}
{%- if 'agent_ids' in c %}
with latest as (
  select {{ adapter.quote(c['id']['name']) }} as chat_key, {{ adapter.quote(c['agent_ids']['name']) }} as agent_ids
  from {{ zc_latest(rel, c, ['id'], 'update_timestamp') }} chats
),
unnested as (
  {{ zc_unnest_text_array('latest', 'chat_key', 'agent_ids') }}
)
select
  cast(chat_key as {{ dbt.type_string() }}) as chat_id,
  cast(position as {{ dbt.type_bigint() }}) as position,
  {{ zc_cast_text('value', 'int') }} as agent_id
from unnested
{%- else %}
select
  cast(null as {{ dbt.type_string() }}) as chat_id,
  cast(null as {{ dbt.type_bigint() }}) as position,
  cast(null as {{ dbt.type_bigint() }}) as agent_id
where 1 = 0
{%- endif %}
