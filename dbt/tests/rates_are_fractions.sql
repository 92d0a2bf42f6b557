-- Rates are fractions between 0 and 1; percentiles lie between the extremes they summarize.
{% for m in ['zendesk_chat__overall', 'zendesk_chat__daily', 'zendesk_chat__weekly', 'zendesk_chat__department_daily'] %}
select '{{ m }}' as model
from {{ ref(m) }}
where missed_rate not between 0 and 1
   or satisfaction_rate not between 0 and 1
   or median_first_response_s > p90_first_response_s
   or p90_first_response_s > max_first_response_s
   or median_waiting_time_s > p90_waiting_time_s
{{ "union all" if not loop.last }}
{% endfor %}
union all
select 'zendesk_chat__agent_daily' as model
from {{ ref('zendesk_chat__agent_daily') }}
where satisfaction_rate not between 0 and 1 or online_s < 0 or away_s < 0 or invisible_s < 0
