-- Every grain counts the same chats: the days, the weeks and the one overall row; the departments'
-- days count the chats with a department. Returns a row per mismatch.
with chats as (
  select
    count(*) as n,
    sum(case when department_id is not null then 1 else 0 end) as with_department
  from {{ ref('zendesk_chat__chats') }}
),
sums as (
  select
    (select sum(chats) from {{ ref('zendesk_chat__daily') }}) as daily,
    (select sum(chats) from {{ ref('zendesk_chat__weekly') }}) as weekly,
    (select sum(chats) from {{ ref('zendesk_chat__overall') }}) as overall,
    (select sum(chats) from {{ ref('zendesk_chat__department_daily') }}) as departments,
    (select sum(chats_handled) from {{ ref('zendesk_chat__agent_daily') }}) as agent_days,
    (select sum(chats_handled) from {{ ref('zendesk_chat__agents') }}) as agents
)
select *
from chats, sums
where daily <> n or weekly <> n or overall <> n or departments <> with_department or agent_days <> agents
