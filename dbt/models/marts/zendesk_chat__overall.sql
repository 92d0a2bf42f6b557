-- One row: every chat KPI over all synced chats (the figures the demo and the README quote).
{{ zc_chat_kpis(ref('zendesk_chat__chats')) }}
