-- One row per status period of an agent (online, away, invisible, offline), the latest
-- extraction of each id; `started_at` to the microsecond when the sync carried it.
{%- set rel = source('zendesk_chat', 'agent_timeline') %}
{%- set c = zc_columns(rel) %}
with typed as (
  select
    {{ zc_col(c, 'id', 'text', 'timeline_id') }},
    {{ zc_col(c, 'agent_id', 'int') }},
    {{ zc_col(c, 'start_time', 'ts', 'start_time') }},
    {{ zc_col(c, 'start_time_exact', 'ts', 'start_time_exact') }},
    {{ zc_col(c, 'status', 'text') }},
    {{ zc_col(c, 'duration', 'float', 'duration_s') }},
    {{ zc_col(c, 'engagement_count', 'int') }}
  from {{ zc_latest(rel, c, ['id'], 'start_time') }} timeline
)
select
  timeline_id,
  agent_id,
  coalesce(start_time_exact, start_time) as started_at,
  status,
  duration_s,
  engagement_count
from typed
