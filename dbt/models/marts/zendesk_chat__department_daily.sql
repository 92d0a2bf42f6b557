-- One row per department and day (reporting time zone), from the chat's (final) department.
with chats as (
  select c.*, d.department_name as current_department_name
  from {{ ref('zendesk_chat__chats') }} c
  left join {{ ref('stg_zendesk_chat__departments') }} d on d.department_id = c.department_id
  where c.department_id is not null
),
kpis as (
  {{ zc_chat_kpis('chats', ['department_id', 'started_date']) }}
),
names as (
  select department_id, max(coalesce(current_department_name, department_name)) as department_name
  from chats
  group by department_id
)
select n.department_name, k.*
from kpis k
join names n on n.department_id = k.department_id
