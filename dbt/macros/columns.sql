{#- Reading the synced tables whatever their exact shape: a column may be missing (a stream or a
    field that never carried data creates no column), flags may be BOOLEAN or text, times may be
    TIMESTAMP, TIMESTAMP WITH TIME ZONE or RFC 3339 text, objects JSON, JSONB or JSON text.
    Every macro here returns an expression of one fixed type, or a typed NULL when the column is
    absent, so a staging model compiles to the same column types on every engine. Source columns
    are quoted as the table spells them; the models' own names are plain lower-case identifiers. -#}

{#- name (lower case) -> {"name": the column's own spelling, "type": its data type, lower case}.
    Empty while dbt parses the project (no database access then). -#}
{% macro zc_columns(relation) %}
  {%- set cols = {} -%}
  {%- if execute -%}
    {%- for c in adapter.get_columns_in_relation(relation) -%}
      {%- do cols.update({(c.name | lower): {"name": c.name, "type": (c.data_type | lower)}}) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(cols) }}
{% endmacro %}

{% macro zc_type(kind) %}
  {%- if kind == 'text' -%}{{ return(dbt.type_string()) }}
  {%- elif kind == 'int' -%}{{ return(dbt.type_bigint()) }}
  {%- elif kind == 'float' -%}{{ return(zc_double()) }}
  {%- elif kind == 'bool' -%}{{ return(dbt.type_boolean()) }}
  {%- elif kind == 'ts' -%}{{ return(dbt.type_timestamp()) }}
  {%- else -%}{{ exceptions.raise_compiler_error("zc_type: unknown kind " ~ kind) }}
  {%- endif -%}
{% endmacro %}

{#- A text expression as `kind`: integers through safe_cast, flags from their usual spellings. -#}
{% macro zc_cast_text(expr, kind) %}
  {%- if kind == 'text' -%}{{ expr }}
  {%- elif kind == 'bool' -%}
    (case when lower({{ expr }}) in ('true', 't', '1', '1.0') then true
          when lower({{ expr }}) in ('false', 'f', '0', '0.0') then false end)
  {%- elif kind == 'ts' -%}{{ zc_text_to_utc(expr) }}
  {%- elif kind == 'int' -%}{{ dbt.safe_cast(dbt.safe_cast(expr, dbt.type_numeric()), dbt.type_bigint()) }}
  {%- else -%}{{ dbt.safe_cast(expr, zc_type(kind)) }}
  {%- endif -%}
{% endmacro %}

{#- Column `name` of a relation read with zc_columns, as `kind` (text, int, float, bool, ts: a
    TIMESTAMP without zone holding UTC). A missing column gives a typed NULL. -#}
{% macro zc_col(cols, name, kind, alias=none) %}
  {%- set out = alias or name -%}
  {%- if name not in cols -%}
    cast(null as {{ zc_type(kind) }}) as {{ out }}
  {%- else -%}
    {%- set q = adapter.quote(cols[name]["name"]) -%}
    {%- set t = cols[name]["type"] -%}
    {%- if kind == 'bool' and t.startswith('bool') -%}
      {{ q }} as {{ out }}
    {%- elif kind == 'ts' and ('with time zone' in t or 'timestamptz' in t or 'timestamp_tz' in t) -%}
      {{ zc_tz_to_utc(q) }} as {{ out }}
    {%- elif kind == 'ts' and t.startswith('timestamp') -%}
      cast({{ q }} as {{ dbt.type_timestamp() }}) as {{ out }}
    {%- elif kind in ('int', 'float') and (t in ('integer', 'bigint', 'smallint', 'double', 'double precision', 'real', 'float', 'hugeint') or t.startswith('numeric') or t.startswith('decimal')) -%}
      cast({{ q }} as {{ zc_type(kind) }}) as {{ out }}
    {%- else -%}
      {{ zc_cast_text(zc_as_text(q, t), kind) }} as {{ out }}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}

{#- Field `key` of the JSON object in column `name`, as `kind`; NULL when the column is missing. -#}
{% macro zc_json_col(cols, name, key, kind, alias) %}
  {%- if name not in cols -%}
    cast(null as {{ zc_type(kind) }}) as {{ alias }}
  {%- else -%}
    {{ zc_cast_text(zc_json_text(adapter.quote(cols[name]["name"]), key), kind) }} as {{ alias }}
  {%- endif -%}
{% endmacro %}

{#- The dedup order of a synced table: latest cursor first, then the latest extraction. -#}
{% macro zc_latest_first(cols, cursor=none) %}
  {%- set parts = [] -%}
  {%- if cursor and cursor in cols -%}{%- do parts.append(adapter.quote(cols[cursor]["name"]) ~ " desc nulls last") -%}{%- endif -%}
  {%- if '_airbyte_extracted_at' in cols -%}{%- do parts.append(adapter.quote(cols['_airbyte_extracted_at']["name"]) ~ " desc nulls last") -%}{%- endif -%}
  {%- if not parts -%}{%- do parts.append("1") -%}{%- endif -%}
  {{ parts | join(", ") }}
{% endmacro %}

{#- The latest row per primary key `keys` (a list of column names) of a synced table: append-mode
    tables hold a record once per sync that emitted it. A subquery, to use after `from`. -#}
{% macro zc_latest(relation, cols, keys, cursor=none) %}
  {%- set quoted = [] -%}
  {%- for k in keys -%}{%- do quoted.append(adapter.quote(cols[k]["name"] if k in cols else k)) -%}{%- endfor -%}
  (select * from (
    select src.*, row_number() over (
      partition by {{ quoted | join(", ") }} order by {{ zc_latest_first(cols, cursor) }}) as zc_row
    from {{ relation }} src
  ) ranked where zc_row = 1)
{% endmacro %}
