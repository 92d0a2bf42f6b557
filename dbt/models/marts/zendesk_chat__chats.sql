-- One row per chat or offline message that is not deleted, with every per-chat KPI.
with chats as (
  select * from {{ ref('stg_zendesk_chat__chats') }}
  where not coalesce(is_deleted, false)
),
history as (
  select * from {{ ref('stg_zendesk_chat__chat_history') }}
),
first_visitor_message as (
  select chat_id, min(occurred_at) as occurred_at
  from history
  where event_type = 'chat.msg' and (sender_type = 'Visitor' or nick like 'visitor:%')
  group by chat_id
),
first_agent_join as (
  select chat_id, min(occurred_at) as occurred_at
  from history
  where event_type = 'chat.memberjoin' and (sender_type = 'Agent' or nick like 'agent:%')
  group by chat_id
),
agents as (
  select chat_id, cast(count(*) as {{ dbt.type_bigint() }}) as agent_count
  from {{ ref('stg_zendesk_chat__chat_agents') }}
  group by chat_id
),
classified as (
  select
    c.*,
    case
      when c.chat_type = 'offline_msg' and coalesce(c.is_unread, false) then 'open'
      when c.chat_type = 'offline_msg' then 'offline_message'
      when coalesce(c.is_missed, false) then 'missed'
      when c.ended_at is null then 'open'
      else 'answered'
    end as status,
    v.occurred_at as first_visitor_message_at,
    j.occurred_at as first_agent_join_at,
    coalesce(a.agent_count, 0) as agent_count
  from chats c
  left join first_visitor_message v on v.chat_id = c.chat_id
  left join first_agent_join j on j.chat_id = c.chat_id
  left join agents a on a.chat_id = c.chat_id
)
select
  chat_id,
  chat_type,
  status,
  started_at,
  cast({{ dbt.date_trunc('day', zc_local('started_at')) }} as date) as started_date,
  cast({{ dbt.date_trunc('week', zc_local('started_at')) }} as date) as started_week,
  ended_at,
  updated_at,
  started_by,
  coalesce(started_by = 'agent', false) as is_proactive,
  coalesce(is_triggered, false) as is_triggered,
  status = 'missed' as is_missed,
  department_id,
  department_name,
  agent_count,
  case when chat_type = 'chat' then first_response_s end as first_response_s,
  case when chat_type = 'chat' then avg_response_s end as avg_response_s,
  case when chat_type = 'chat' then max_response_s end as max_response_s,
  case
    when chat_type = 'chat' and first_agent_join_at >= first_visitor_message_at
      then {{ zc_seconds_between('first_visitor_message_at', 'first_agent_join_at') }}
  end as waiting_time_s,
  case when chat_type = 'chat' then duration_s end as duration_s,
  case when status = 'answered' then rating end as rating,
  coalesce(status = 'answered' and rating in ('good', 'bad'), false) as is_rated,
  messages_total,
  messages_agent,
  messages_visitor,
  visitor_id,
  visitor_country_code,
  zendesk_ticket_id
from classified
