{#- None of the columns is NULL (for models whose column list is shared through a YAML anchor). -#}
{% test not_null_columns(model, columns) %}
select *
from {{ model }}
where {% for c in columns %}{{ c }} is null{{ " or " if not loop.last }}{% endfor %}
{% endtest %}
