{# Seed list values: lower-case, trimmed, no spaces around `|`. #}
{% macro normalize_rule_value(column) -%}
    {{ regexp_replace_all('lower(trim(' ~ column ~ '))', "'\s*[|]\s*'", "'|'") }}
{%- endmacro %}
