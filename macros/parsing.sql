{#
    Raw tables hold text. These macros turn text into typed values and return NULL (never an
    error) for text that does not parse, with the same answer on every adapter, so staging can
    quarantine the row with a reason instead of failing the build.
#}

{% macro regexp_like(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_like', 'leadscore')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_like(expression, pattern) -%}
    regexp_like({{ expression }}, {{ pattern }})
{%- endmacro %}

{% macro duckdb__regexp_like(expression, pattern) -%}
    regexp_matches({{ expression }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__regexp_like(expression, pattern) -%}
    ({{ expression }} ~ {{ pattern }})
{%- endmacro %}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{% macro normalize_email(column) -%}
    nullif(lower({{ regexp_replace_all(column, "'^\s+|\s+$'", "''") }}), '')
{%- endmacro %}

{% macro parse_integer(column) -%}
    case
        when {{ regexp_like('trim(' ~ column ~ ')', "'^[+-]?[0-9]{1,18}$'") }}
            then cast(trim({{ column }}) as bigint)
    end
{%- endmacro %}

{% macro parse_decimal(column) -%}
    case
        when {{ regexp_like('trim(' ~ column ~ ')', "'^[+-]?[0-9]{1,16}([.][0-9]{1,6})?$'") }}
            then cast(trim({{ column }}) as decimal(22, 6))
    end
{%- endmacro %}

{% macro parse_boolean(column) -%}
    case
        when lower(trim({{ column }})) in ('true', 't', '1', 'yes', 'y') then true
        when lower(trim({{ column }})) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}

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

{#
    PostgreSQL has no try_cast. The pattern above already refuses anything but ISO text; this
    function turns the remaining impossible dates (2025-02-30, 25:00) into NULL.
#}
{% macro create_leadscore_functions() -%}
    {{ return(adapter.dispatch('create_leadscore_functions', 'leadscore')()) }}
{%- endmacro %}

{% macro default__create_leadscore_functions() -%}
    select 1
{%- endmacro %}

{% macro postgres__create_leadscore_functions() -%}
    create schema if not exists {{ target.schema }};
    create or replace function {{ target.schema }}.leadscore_try_timestamp(value text)
    returns timestamp
    language plpgsql
    stable
    as $body$
    begin
        return value::timestamp;
    exception when others then
        return null;
    end
    $body$
{%- endmacro %}

{# Replace every match of a regular expression (PostgreSQL and DuckDB need the 'g' flag). #}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'leadscore')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}
