-- One row per day (reporting time zone) with at least one chat: volume and every chat KPI.
{{ zc_chat_kpis(ref('zendesk_chat__chats'), ['started_date']) }}
