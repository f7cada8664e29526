{# Its pre-hook: the quarantined rows of those files are written again, whole. #}
{% macro delete_reclassified_quarantine(events) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where _file_id in ({{ files_reclassified_since_quarantine(events) }})
    {%- endif -%}
{%- endmacro %}
