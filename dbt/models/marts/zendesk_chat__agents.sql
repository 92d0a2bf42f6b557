-- One row per agent with a chat or a status period: the agent KPIs over all time.
{{ zc_agent_kpis([]) }}
