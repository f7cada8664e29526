{# An e-mail address lower-case without surrounding white space, NULL when empty. #}
{% macro normalize_email(column) -%}
    nullif(lower({{ regexp_replace_all(column, "'^\s+|\s+$'", "''") }}), '')
{%- endmacro %}
