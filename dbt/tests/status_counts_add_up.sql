-- answered + missed + offline (read) + open = chats, at every grain; resolved = chats - open;
-- live + offline = chats. Returns the rows where a sum does not hold.
{% for m in ['zendesk_chat__overall', 'zendesk_chat__daily', 'zendesk_chat__weekly', 'zendesk_chat__department_daily'] %}
select '{{ m }}' as model, chats
from {{ ref(m) }}
where answered_chats + missed_chats + read_offline_messages + open_chats <> chats
   or resolved_chats + open_chats <> chats
   or live_chats + offline_messages <> chats
{{ "union all" if not loop.last }}
{% endfor %}
