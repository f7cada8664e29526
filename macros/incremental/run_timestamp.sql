{# When this dbt invocation started (UTC), as a timestamp: incremental models stamp the rows
   a run writes with it, so the models after them can tell which rows changed. #}
{% macro run_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
