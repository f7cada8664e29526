{# The version the stored day aggregates were built with ('' when there are none). #}
{% macro stored_rules_version() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set stored = run_query("select rules_version from " ~ this ~ " limit 1") -%}
    {{ return(stored.rows[0][0] if stored.rows | length > 0 else '') }}
{%- endmacro %}
