{#
    The raw rows (every column as received, extra columns included) that `base_relation`
    classified as unusable, with the reason. Joined back to raw on the row's lineage key so
    the quarantine shows what arrived, not what parsing made of it.

    `files` (optional): a query of the `_file_id`s to take; only those files' rows are read
    (raw through the rejected rows' files, so the query runs once), and the rows carry the
    base model's `_classified_at` (incremental quarantines).
#}
{% macro quarantine_rows(raw_relation, base_relation, files=none) %}
with

rejected as (
    select
        _file_id,
        _source_row,
        quarantine_reason
        {%- if files is not none %},
        _classified_at
        {%- endif %}
    from {{ base_relation }}
    where
        quarantine_reason is not null
        {%- if files is not none %}
        and _file_id in ({{ files }})
        {%- endif %}
),

raw_rows as (
    select * from {{ raw_relation }}
    {%- if files is not none %}
    where _file_id in (select distinct rejected._file_id from rejected)
    {%- endif %}
),

final as (
    select
        rejected.quarantine_reason,
        raw_rows.*
        {%- if files is not none %},
        rejected._classified_at
        {%- endif %}
    from raw_rows
    inner join rejected
        on
            raw_rows._file_id = rejected._file_id
            and raw_rows._source_row = rejected._source_row
)

select * from final
{% endmacro %}
