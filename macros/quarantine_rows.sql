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

{#
    quarantine_marketing__events, incremental: the landing files with an event row that
    `events` (base_marketing__events) (re)classified since the quarantine last ran (new files, and older
    files whose rows changed: a contact found, a duplicate resolved). The watermark is read
    once, before the pre-hook deletes those files' rows, and written into the SQL.
#}
{% macro files_reclassified_since_quarantine(events) -%}
    select distinct _file_id
    from {{ events }}
    {%- if is_incremental() %}
    where _classified_at > {{ last_refreshed_at(this, '_classified_at') }}
    {%- endif %}
{%- endmacro %}

{# Its pre-hook: the quarantined rows of those files are written again, whole. #}
{% macro delete_reclassified_quarantine(events) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where _file_id in ({{ files_reclassified_since_quarantine(events) }})
    {%- endif -%}
{%- endmacro %}

{# The loader's lineage columns, carried by every base model so a row can be traced to its
   landing file (see the `lineage_columns` doc). #}
{% macro raw_lineage_columns() -%}
    _file_id,
    _source_row,
    _source_file,
    _loaded_at
{%- endmacro %}
