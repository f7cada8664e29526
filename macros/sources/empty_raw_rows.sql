{# A relation of the contract table's shape with no rows: what an adapter model gives when the
   Fivetran tables it reads are switched off. #}
{% macro empty_raw_rows(raw_table) -%}
    select
        {% for name in raw_contract_columns(raw_table) -%}
            cast(null as {{ text_type() }}) as {{ name }},
        {% endfor -%}
        cast(null as bigint) as _file_id,
        cast(null as bigint) as _source_row,
        cast(null as {{ text_type() }}) as _source_file,
        cast(null as timestamp) as _loaded_at
    where 1 = 0
{%- endmacro %}
