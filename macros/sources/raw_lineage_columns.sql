{# The loader's lineage columns, carried by every base model so a row can be traced to its
   landing file (see the `lineage_columns` doc). #}
{% macro raw_lineage_columns() -%}
    _file_id,
    _source_row,
    _source_file,
    _loaded_at
{%- endmacro %}
