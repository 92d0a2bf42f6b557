{#- The chat KPIs, defined once and aggregated at several grains (day, week, department and day,
    all time). `chats` is a relation or CTE of zendesk_chat__chats rows; `group_cols` the columns
    to group by (none: one row over all time). Counts are BIGINT, times seconds (DOUBLE), rates
    fractions 0..1 (DOUBLE). -#}
{% macro zc_count_if(cond) -%}
  cast(sum(case when {{ cond }} then 1 else 0 end) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro zc_ratio(num, den) -%}
  cast({{ num }} as {{ zc_double() }}) / nullif({{ den }}, 0)
{%- endmacro %}

{% macro zc_chat_kpis(chats, group_cols=[]) %}
select
  {%- for g in group_cols %}
  {{ g }},
  {%- endfor %}
  cast(count(*) as {{ dbt.type_bigint() }}) as chats,
  {{ zc_count_if("chat_type = 'chat'") }} as live_chats,
  {{ zc_count_if("chat_type = 'offline_msg'") }} as offline_messages,
  {{ zc_count_if("status = 'answered'") }} as answered_chats,
  {{ zc_count_if("status = 'missed'") }} as missed_chats,
  {{ zc_count_if("status = 'offline_message'") }} as read_offline_messages,
  {{ zc_count_if("status = 'open'") }} as open_chats,
  {{ zc_count_if("status <> 'open'") }} as resolved_chats,
  {{ zc_count_if("is_proactive") }} as proactive_chats,
  {{ zc_ratio(zc_count_if("status = 'missed'"), "sum(case when chat_type = 'chat' then 1 else 0 end)") }} as missed_rate,
  cast(count(first_response_s) as {{ dbt.type_bigint() }}) as responded_chats,
  cast(avg(first_response_s) as {{ zc_double() }}) as avg_first_response_s,
  cast({{ zc_percentile('first_response_s', 0.5) }} as {{ zc_double() }}) as median_first_response_s,
  cast({{ zc_percentile('first_response_s', 0.9) }} as {{ zc_double() }}) as p90_first_response_s,
  cast(max(first_response_s) as {{ zc_double() }}) as max_first_response_s,
  cast(count(waiting_time_s) as {{ dbt.type_bigint() }}) as waited_chats,
  cast(avg(waiting_time_s) as {{ zc_double() }}) as avg_waiting_time_s,
  cast({{ zc_percentile('waiting_time_s', 0.5) }} as {{ zc_double() }}) as median_waiting_time_s,
  cast({{ zc_percentile('waiting_time_s', 0.9) }} as {{ zc_double() }}) as p90_waiting_time_s,
  cast(avg(case when status = 'answered' then duration_s end) as {{ zc_double() }}) as avg_answered_duration_s,
  cast(avg(case when status = 'missed' then duration_s end) as {{ zc_double() }}) as avg_missed_duration_s,
  {{ zc_count_if("is_rated") }} as rated_chats,
  {{ zc_count_if("rating = 'good' and is_rated") }} as good_ratings,
  {{ zc_count_if("rating = 'bad' and is_rated") }} as bad_ratings,
  {{ zc_ratio(zc_count_if("rating = 'good' and is_rated"), "sum(case when is_rated then 1 else 0 end)") }} as satisfaction_rate
from {{ chats }}
{%- if group_cols %}
group by {{ group_cols | join(", ") }}
{%- endif %}
{% endmacro %}

{#- The agent KPIs at a grain: `grain_cols` are added to agent_id (e.g. the day). Chats handled
    come from the chat-agent bridge, response times and ratings from the agent's engagements,
    time per status from agent_timeline. -#}
{% macro zc_agent_kpis(grain_cols=[]) %}
{%- set chat_grain = [] -%}{%- set tl_grain = [] -%}
{%- for g in grain_cols -%}{%- do chat_grain.append('c.' ~ g) -%}{%- do tl_grain.append('t.' ~ g) -%}{%- endfor %}
with chats as (
  select * from {{ ref('zendesk_chat__chats') }}
),
handled as (
  select
    b.agent_id,
    {%- for g in chat_grain %} {{ g }},{% endfor %}
    cast(count(distinct b.chat_id) as {{ dbt.type_bigint() }}) as chats_handled
  from {{ ref('stg_zendesk_chat__chat_agents') }} b
  join chats c on c.chat_id = b.chat_id
  group by b.agent_id{% for g in chat_grain %}, {{ g }}{% endfor %}
),
engaged as (
  select
    e.agent_id,
    {%- for g in chat_grain %} {{ g }},{% endfor %}
    cast(count(*) as {{ dbt.type_bigint() }}) as engagements,
    cast(count(e.first_response_s) as {{ dbt.type_bigint() }}) as responded_engagements,
    cast(avg(e.first_response_s) as {{ zc_double() }}) as avg_first_response_s,
    cast({{ zc_percentile('e.first_response_s', 0.5) }} as {{ zc_double() }}) as median_first_response_s,
    cast(avg(e.avg_response_s) as {{ zc_double() }}) as avg_response_s,
    {{ zc_count_if("e.rating = 'good'") }} as good_ratings,
    {{ zc_count_if("e.rating = 'bad'") }} as bad_ratings
  from {{ ref('stg_zendesk_chat__chat_engagements') }} e
  join chats c on c.chat_id = e.chat_id
  group by e.agent_id{% for g in chat_grain %}, {{ g }}{% endfor %}
),
timeline as (
  select
    t.agent_id,
    {%- for g in tl_grain %} {{ g }},{% endfor %}
    cast(sum(case when t.status = 'online' then t.duration_s else 0 end) as {{ zc_double() }}) as online_s,
    cast(sum(case when t.status = 'away' then t.duration_s else 0 end) as {{ zc_double() }}) as away_s,
    cast(sum(case when t.status = 'invisible' then t.duration_s else 0 end) as {{ zc_double() }}) as invisible_s
  from (
    select
      agent_id, status, duration_s,
      cast({{ dbt.date_trunc('day', zc_local('started_at')) }} as date) as started_date,
      cast({{ dbt.date_trunc('week', zc_local('started_at')) }} as date) as started_week
    from {{ ref('stg_zendesk_chat__agent_timeline') }}
  ) t
  group by t.agent_id{% for g in tl_grain %}, {{ g }}{% endfor %}
),
keys as (
  select distinct agent_id{% for g in grain_cols %}, {{ g }}{% endfor %} from (
    select agent_id{% for g in grain_cols %}, {{ g }}{% endfor %} from handled
    union all
    select agent_id{% for g in grain_cols %}, {{ g }}{% endfor %} from engaged
    union all
    select agent_id{% for g in grain_cols %}, {{ g }}{% endfor %} from timeline
  ) all_keys
)
select
  k.agent_id,
  {%- for g in grain_cols %}
  k.{{ g }},
  {%- endfor %}
  a.display_name as agent_name,
  coalesce(h.chats_handled, 0) as chats_handled,
  coalesce(en.engagements, 0) as engagements,
  coalesce(en.responded_engagements, 0) as responded_engagements,
  en.avg_first_response_s,
  en.median_first_response_s,
  en.avg_response_s,
  coalesce(en.good_ratings, 0) as good_ratings,
  coalesce(en.bad_ratings, 0) as bad_ratings,
  {{ zc_ratio('en.good_ratings', 'en.good_ratings + en.bad_ratings') }} as satisfaction_rate,
  coalesce(t.online_s, 0) as online_s,
  coalesce(t.away_s, 0) as away_s,
  coalesce(t.invisible_s, 0) as invisible_s
from keys k
left join handled h on h.agent_id = k.agent_id{% for g in grain_cols %} and h.{{ g }} = k.{{ g }}{% endfor %}
left join engaged en on en.agent_id = k.agent_id{% for g in grain_cols %} and en.{{ g }} = k.{{ g }}{% endfor %}
left join timeline t on t.agent_id = k.agent_id{% for g in grain_cols %} and t.{{ g }} = k.{{ g }}{% endfor %}
left join {{ ref('stg_zendesk_chat__agents') }} a on a.agent_id = k.agent_id
where k.agent_id is not null
{% endmacro %}
