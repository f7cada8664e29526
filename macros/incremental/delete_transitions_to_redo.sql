{# fct_lead_stage_transitions, incremental: drop the rows it is about to rebuild (a date
   whose snapshot no longer differs from the one before must lose its row). #}
{% macro delete_transitions_to_redo(history) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where transitioned_on in ({{ transition_dates_to_redo(history_neighbours(history)) }})
    {%- endif -%}
{%- endmacro %}
