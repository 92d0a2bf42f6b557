{#- The few places where DuckDB and PostgreSQL (and the warehouses Airbyte writes to) differ.
    DuckDB and PostgreSQL are tested in CI; the BigQuery and Snowflake versions are written from
    those engines' documentation and are not tested here. Another adapter needs a
    `<adapter>__zc_json_text` and a `<adapter>__zc_unnest_text_array` (dbt says so when missing). -#}

{#- A column as text; `dtype` is its data type (lower case): a JSON value gives its text (a string
    without its quotes). -#}
{% macro zc_as_text(expr, dtype) %}{{ return(adapter.dispatch('zc_as_text', 'zendesk_chat')(expr, dtype)) }}{% endmacro %}
{% macro default__zc_as_text(expr, dtype) %}cast({{ expr }} as {{ dbt.type_string() }}){% endmacro %}
{% macro duckdb__zc_as_text(expr, dtype) %}
  {%- if dtype == 'json' -%}json_extract_string({{ expr }}, '$'){%- else -%}cast({{ expr }} as varchar){%- endif -%}
{% endmacro %}
{% macro postgres__zc_as_text(expr, dtype) %}
  {%- if dtype in ('json', 'jsonb') -%}(cast({{ expr }} as jsonb) #>> '{}'){%- else -%}cast({{ expr }} as text){%- endif -%}
{% endmacro %}

{#- Field `key` of a JSON object (a JSON column or JSON text), as text. -#}
{% macro zc_json_text(expr, key) %}{{ return(adapter.dispatch('zc_json_text', 'zendesk_chat')(expr, key)) }}{% endmacro %}
{% macro default__zc_json_text(expr, key) %}{{ exceptions.raise_compiler_error("zc_json_text: no version for adapter " ~ adapter.type()) }}{% endmacro %}
{% macro duckdb__zc_json_text(expr, key) %}json_extract_string(cast({{ expr }} as json), '$.{{ key }}'){% endmacro %}
{% macro postgres__zc_json_text(expr, key) %}(cast({{ expr }} as jsonb) ->> '{{ key }}'){% endmacro %}
{% macro bigquery__zc_json_text(expr, key) %}json_value({{ expr }}, '$.{{ key }}'){% endmacro %}
{% macro snowflake__zc_json_text(expr, key) %}cast(get(try_parse_json(to_varchar({{ expr }})), '{{ key }}') as varchar){% endmacro %}

{#- One row per element of the JSON array of strings in `array_col` of `from_sql`:
    (`key_col`, position 0-based, value text). Rows whose value is not an array give none. -#}
{% macro zc_unnest_text_array(from_sql, key_col, array_col) %}{{ return(adapter.dispatch('zc_unnest_text_array', 'zendesk_chat')(from_sql, key_col, array_col)) }}{% endmacro %}
{% macro default__zc_unnest_text_array(from_sql, key_col, array_col) %}{{ exceptions.raise_compiler_error("zc_unnest_text_array: no version for adapter " ~ adapter.type()) }}{% endmacro %}
{% macro duckdb__zc_unnest_text_array(from_sql, key_col, array_col) %}
select {{ key_col }}, unnest(generate_series(0, len(vals) - 1)) as position, unnest(vals) as value
from (
  select {{ key_col }}, json_extract_string(cast({{ array_col }} as json), '$[*]') as vals
  from {{ from_sql }}
  where json_type(cast({{ array_col }} as json)) = 'ARRAY'
) arrays
{% endmacro %}
{% macro postgres__zc_unnest_text_array(from_sql, key_col, array_col) %}
select s.{{ key_col }}, cast(e.ordinality - 1 as bigint) as position, e.value
from {{ from_sql }} s
cross join lateral jsonb_array_elements_text(
  case when jsonb_typeof(cast(s.{{ array_col }} as jsonb)) = 'array'
       then cast(s.{{ array_col }} as jsonb) else '[]'::jsonb end
) with ordinality as e(value, ordinality)
{% endmacro %}
{% macro bigquery__zc_unnest_text_array(from_sql, key_col, array_col) %}
select s.{{ key_col }}, position, json_value(value) as value
from {{ from_sql }} s, unnest(json_query_array(s.{{ array_col }})) as value with offset as position
{% endmacro %}
{% macro snowflake__zc_unnest_text_array(from_sql, key_col, array_col) %}
select s.{{ key_col }}, f.index as position, cast(f.value as varchar) as value
from {{ from_sql }} s, lateral flatten(input => try_parse_json(to_varchar(s.{{ array_col }}))) f
{% endmacro %}

{#- The continuous percentile `p` (0..1) of a numeric expression, as an aggregate. -#}
{% macro zc_percentile(expr, p) %}{{ return(adapter.dispatch('zc_percentile', 'zendesk_chat')(expr, p)) }}{% endmacro %}
{% macro default__zc_percentile(expr, p) %}percentile_cont({{ p }}) within group (order by {{ expr }}){% endmacro %}
{#- BigQuery has PERCENTILE_CONT only as a window function: an approximation (1/1000 quantiles). -#}
{% macro bigquery__zc_percentile(expr, p) %}approx_quantiles({{ expr }}, 1000)[offset({{ (p * 1000) | int }})]{% endmacro %}

{#- Seconds (with fractions) from timestamp `a` to timestamp `b`. -#}
{% macro zc_seconds_between(a, b) %}{{ return(adapter.dispatch('zc_seconds_between', 'zendesk_chat')(a, b)) }}{% endmacro %}
{% macro default__zc_seconds_between(a, b) %}cast(extract(epoch from ({{ b }} - {{ a }})) as {{ zc_double() }}){% endmacro %}
{% macro bigquery__zc_seconds_between(a, b) %}timestamp_diff({{ b }}, {{ a }}, microsecond) / 1e6{% endmacro %}
{% macro snowflake__zc_seconds_between(a, b) %}datediff(microsecond, {{ a }}, {{ b }}) / 1e6{% endmacro %}

{#- A UTC timestamp (no zone) as wall-clock time in the reporting time zone (var zendesk_chat_timezone). -#}
{% macro zc_local(ts) %}{{ return(adapter.dispatch('zc_local', 'zendesk_chat')(ts)) }}{% endmacro %}
{% macro default__zc_local(ts) %}
  {%- set tz = var('zendesk_chat_timezone', 'UTC') -%}
  {%- if tz | upper == 'UTC' -%}{{ ts }}{%- else -%}cast(({{ ts }} at time zone 'UTC') at time zone '{{ tz }}' as {{ dbt.type_timestamp() }}){%- endif -%}
{% endmacro %}
{% macro bigquery__zc_local(ts) %}datetime({{ ts }}, '{{ var("zendesk_chat_timezone", "UTC") }}'){% endmacro %}
{% macro snowflake__zc_local(ts) %}convert_timezone('UTC', '{{ var("zendesk_chat_timezone", "UTC") }}', {{ ts }}){% endmacro %}

{#- RFC 3339 text (with Z or an offset) as a UTC timestamp without zone. -#}
{% macro zc_text_to_utc(expr) %}{{ return(adapter.dispatch('zc_text_to_utc', 'zendesk_chat')(expr)) }}{% endmacro %}
{% macro default__zc_text_to_utc(expr) %}cast(cast({{ expr }} as timestamp with time zone) at time zone 'UTC' as {{ dbt.type_timestamp() }}){% endmacro %}
{% macro bigquery__zc_text_to_utc(expr) %}timestamp({{ expr }}){% endmacro %}
{% macro snowflake__zc_text_to_utc(expr) %}convert_timezone('UTC', try_to_timestamp_tz({{ expr }}))::timestamp_ntz{% endmacro %}

{#- A 64-bit float (dbt.type_float() is a 32-bit FLOAT on DuckDB). -#}
{% macro zc_double() %}{{ return(adapter.dispatch('zc_double', 'zendesk_chat')()) }}{% endmacro %}
{% macro default__zc_double() %}double precision{% endmacro %}
{% macro bigquery__zc_double() %}float64{% endmacro %}
{% macro snowflake__zc_double() %}double{% endmacro %}

{#- A TIMESTAMP WITH TIME ZONE as a UTC timestamp without zone. -#}
{% macro zc_tz_to_utc(expr) %}{{ return(adapter.dispatch('zc_tz_to_utc', 'zendesk_chat')(expr)) }}{% endmacro %}
{% macro default__zc_tz_to_utc(expr) %}cast({{ expr }} at time zone 'UTC' as {{ dbt.type_timestamp() }}){% endmacro %}
{% macro snowflake__zc_tz_to_utc(expr) %}convert_timezone('UTC', {{ expr }})::timestamp_ntz{% endmacro %}
