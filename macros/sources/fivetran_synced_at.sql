{# When Fivetran synced the row, as the contract's `_loaded_at` (a timestamp). #}
{% macro fivetran_synced_at(columns, table_alias=none) -%}
    coalesce(
        {{ parse_timestamp(fivetran_text(columns, ['_fivetran_synced'], table_alias)) }},
        cast({{ dbt.current_timestamp() }} as timestamp)
    )
{%- endmacro %}
