-- The marts hold no deleted chat, and every chat not deleted.
select s.chat_id
from {{ ref('stg_zendesk_chat__chats') }} s
left join {{ ref('zendesk_chat__chats') }} m on m.chat_id = s.chat_id
where (coalesce(s.is_deleted, false) and m.chat_id is not null)
   or (not coalesce(s.is_deleted, false) and m.chat_id is null)
