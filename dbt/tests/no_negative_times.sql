-- No chat has a negative duration, response time or waiting time, or ends before it starts.
select chat_id
from {{ ref('zendesk_chat__chats') }}
where duration_s < 0 or first_response_s < 0 or avg_response_s < 0 or max_response_s < 0
   or waiting_time_s < 0 or ended_at < started_at
