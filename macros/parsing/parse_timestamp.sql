{#
    Timestamps: ISO 8601 in UTC, 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.ffffff]]', with 'T' or a
    space between date and time and an optional trailing 'Z'. Other offsets are refused rather
    than silently shifted, because the engines disagree on how to apply them.
#}
{% macro iso_timestamp_text(column) -%}
    replace(regexp_replace(trim({{ column }}), 'Z$', ''), 'T', ' ')
{%- endmacro %}

{% macro iso_timestamp_pattern() -%}
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?)?$'
{%- endmacro %}

{% macro parse_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'leadscore')(column)) }}
{%- endmacro %}

{% macro default__parse_timestamp(column) -%}
    case
        when {{ regexp_like(iso_timestamp_text(column), iso_timestamp_pattern()) }}
            then try_cast({{ iso_timestamp_text(column) }} as timestamp)
    end
{%- endmacro %}

{% macro postgres__parse_timestamp(column) -%}
    case
        when {{ regexp_like(iso_timestamp_text(column), iso_timestamp_pattern()) }}
            then {{ target.schema }}.leadscore_try_timestamp({{ iso_timestamp_text(column) }})
    end
{%- endmacro %}
