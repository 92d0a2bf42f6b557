-- One row per department (the latest extraction of each id).
{%- set rel = source('zendesk_chat', 'departments') %}
{%- set c = zc_columns(rel) %}
select
  {{ zc_col(c, 'id', 'int', 'department_id') }},
  {{ zc_col(c, 'name', 'text', 'department_name') }},
  {{ zc_col(c, 'description', 'text') }},
  {{ zc_col(c, 'enabled', 'bool', 'is_enabled') }}
from {{ zc_latest(rel, c, ['id']) }} departments
