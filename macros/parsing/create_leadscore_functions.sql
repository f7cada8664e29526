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
