{#
    The raw rows (every column as received, extra columns included) that `base_relation`
    classified as unusable, with the reason. Joined back to raw on the row's lineage key so
    the quarantine shows what arrived, not what parsing made of it.
#}
{% macro quarantine_rows(raw_relation, base_relation) %}
with

rejected as (
    select
        _file_id,
        _source_row,
        quarantine_reason
    from {{ base_relation }}
    where quarantine_reason is not null
),

raw_rows as (
    select * from {{ raw_relation }}
),

final as (
    select
        rejected.quarantine_reason,
        raw_rows.*
    from raw_rows
    inner join rejected
        on
            raw_rows._file_id = rejected._file_id
            and raw_rows._source_row = rejected._source_row
)

select * from final
{% endmacro %}

{# The loader's lineage columns, carried by every base model so a row can be traced to its
   landing file (see the `lineage_columns` doc). #}
{% macro raw_lineage_columns() -%}
    _file_id,
    _source_row,
    _source_file,
    _loaded_at
{%- endmacro %}
