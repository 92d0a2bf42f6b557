-- One row per agent and day (reporting time zone) with a chat or a status period that day.
{{ zc_agent_kpis(['started_date']) }}
