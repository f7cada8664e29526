{#
    The as-of date every score is computed for: the `as_of_date` var (YYYY-MM-DD), else the
    LEADSCORE_AS_OF_DATE environment variable, else the day the run started (UTC). Everything that happened on the as-of date counts, so the
    as-of moment is the end of that day; decay ages are measured from it.
#}
{% macro as_of_date_literal() -%}
    {%- set default = env_var('LEADSCORE_AS_OF_DATE', run_started_at.strftime('%Y-%m-%d')) -%}
    {%- set value = var('as_of_date', default) | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error(
            "var as_of_date must be a date as YYYY-MM-DD, got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
