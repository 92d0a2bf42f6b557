-- One row per week (Monday start, reporting time zone) with at least one chat.
{{ zc_chat_kpis(ref('zendesk_chat__chats'), ['started_week']) }}
